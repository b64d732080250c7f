"""File access confined to a workspace directory by construction (Linux, POSIX).

Every path is walked one component at a time from a descriptor of the workspace root,
each component opened relative to its parent's descriptor with `O_NOFOLLOW`, so the
kernel never follows a symlink for us. Symlinks are resolved here instead: the target is
read (`readlinkat`) and walked the same way, from the link's own directory (or from the
root, for an absolute target that names a path under the root); a step above the root is
refused. Swapping a component for a symlink between our check and our use can therefore
make a call fail, but never reach a file outside: there is no path-based open to race.

Other rules, all checked on the descriptor actually opened (`fstat`), not on the name:

* Only regular files are opened for reading, only directories are walked. FIFOs, sockets
  and devices are named in listings but never opened (an `lstat` first, and `O_NONBLOCK`
  on every open, so a FIFO raced into place cannot block a call either).
* Hard links: a regular file with more than one link is written never (a write would also
  change the other name, perhaps outside), and read only when every one of its links is
  inside the workspace, counted by a walk of the whole workspace (capped; over the cap the
  read is refused). A hard link planted inside to a file outside is thus never read.
* Writes go to a fresh temporary file in the target's directory (`O_CREAT | O_EXCL`,
  by descriptor) that is then renamed over the name (`renameat`), so a write replaces a
  directory entry and never writes through one.
* Paths: NUL bytes, a leading `~` (never expanded), components over NAME_MAX and paths
  over PATH_MAX are refused with a clear message; absolute paths are taken only when they
  name something under the root.

Not covered: a directory renamed from inside the workspace to outside it while a call
holds its descriptor (needs write access to both places, i.e. a shell), and mount points
inside the workspace (treated as ordinary directories).
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

NAME_MAX = 255
PATH_MAX = 4096
MAX_SYMLINKS = 40  # as the kernel's own limit
MAX_DEPTH = 128  # directories deep a walk descends (each level holds a descriptor)

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _O_CLOEXEC | os.O_NONBLOCK
_O_READ = os.O_RDONLY | os.O_NOFOLLOW | _O_CLOEXEC | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
_O_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _O_CLOEXEC


class FsError(Exception):
    """A refused or failed file operation; the message is for the model."""


def kind_of(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


@dataclass
class Located:
    """A name in a directory we hold open: `dir_fd` (owned: close it), `name` in it ("."
    for the directory itself), its lstat (None: it does not exist) and its real path from
    the root."""

    dir_fd: int
    name: str
    st: os.stat_result | None
    rel: tuple[str, ...]

    @property
    def rel_text(self) -> str:
        return "/".join(self.rel) or "."

    def close(self) -> None:
        os.close(self.dir_fd)


@dataclass(frozen=True)
class Entry:
    """One thing a walk met: its path from the root and from the walk's base, its kind
    (after resolving a symlink inside the workspace), and its lstat."""

    rel: str
    rel_base: str
    kind: str
    is_link: bool


class Workspace:
    """Descriptor-based access to the tree under `root`. Close it when done."""

    def __init__(self, root: Path, max_census_entries: int = 100_000) -> None:
        self.root = Path(root).resolve(strict=True)
        self._root_text = str(self.root)
        self._fd = os.open(self.root, _O_DIR)
        self._max_census = max_census_entries
        self._census: dict[tuple[int, int], int] | None = None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:  # a Toolbox not closed still frees its descriptor
        try:
            self.close()
        except OSError:
            pass

    def new_call(self) -> None:
        """Forget what one tool call learnt (the hard-link census): files change between calls."""
        self._census = None

    # ------------------------------------------------------------------ paths

    def split(self, raw: str) -> list[str]:
        """The components of a path the model gave, relative to the root."""
        if "\x00" in raw:
            raise FsError("path contains a NUL byte")
        if raw == "":
            raise FsError("path is empty; use '.' for the workspace root")
        if raw.startswith("~"):
            raise FsError(
                f"path {raw!r} starts with '~', which is not expanded: give a path relative to the "
                "workspace root (write './~name' for a file really named so)"
            )
        try:
            size = len(os.fsencode(raw))
        except UnicodeError:
            raise FsError(f"path {raw!r} is not valid text") from None
        if size > PATH_MAX:
            raise FsError(f"path is too long ({size} bytes; at most {PATH_MAX})")
        if raw.startswith("/"):
            parts = self._under_root(raw)
            if parts is None:
                raise FsError(f"path {raw!r} is outside the workspace")
        else:
            parts = [p for p in raw.split("/") if p not in ("", ".")]
        for part in parts:
            if len(os.fsencode(part)) > NAME_MAX:
                raise FsError(f"a component of path {raw[:80]!r}... is longer than {NAME_MAX} bytes")
        return parts

    def _under_root(self, absolute: str) -> list[str] | None:
        root = self._root_text.rstrip("/")
        if absolute == root or absolute.rstrip("/") == root:
            return []
        if absolute.startswith(root + "/"):
            return [p for p in absolute[len(root) + 1 :].split("/") if p not in ("", ".")]
        return None

    def locate(self, raw: str, *, create_dirs: bool = False) -> Located:
        return self._locate(self.split(raw), raw, create_dirs=create_dirs)

    def _locate(self, parts: list[str], raw: str, *, create_dirs: bool = False) -> Located:
        """Walk `parts` from the root without ever letting the kernel follow a symlink."""
        stack: list[tuple[int, str]] = [(os.dup(self._fd), "")]
        pending = list(reversed(parts))
        hops = 0
        try:
            while pending:
                name = pending.pop()
                if name == "..":
                    if len(stack) == 1:
                        raise FsError(f"path {raw!r} is outside the workspace")
                    os.close(stack.pop()[0])
                    continue
                top = stack[-1][0]
                last = not pending
                try:
                    st: os.stat_result | None = os.stat(name, dir_fd=top, follow_symlinks=False)
                except FileNotFoundError:
                    st = None
                except NotADirectoryError:
                    raise FsError(f"{raw!r}: a component is not a directory") from None
                if st is None:
                    if last:
                        return self._found(stack, name, None)
                    if not create_dirs:
                        raise FsError(f"no such file or directory: {raw!r}")
                    try:
                        os.mkdir(name, 0o777, dir_fd=top)
                    except FileExistsError:
                        pass
                    st = os.stat(name, dir_fd=top, follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    hops += 1
                    if hops > MAX_SYMLINKS:
                        raise FsError(f"too many levels of symbolic links in {raw!r}")
                    target = os.readlink(name, dir_fd=top)
                    if target.startswith("/"):
                        inside = self._under_root(target)
                        if inside is None:
                            raise FsError(f"path {raw!r} is outside the workspace (a symlink points out)")
                        while len(stack) > 1:
                            os.close(stack.pop()[0])
                        pending.extend(reversed(inside))
                    else:
                        pending.extend(reversed([p for p in target.split("/") if p not in ("", ".")]))
                    continue
                if last:
                    return self._found(stack, name, st)
                if not stat.S_ISDIR(st.st_mode):
                    raise FsError(f"{raw!r}: {'/'.join([*self._names(stack), name])} is not a directory")
                stack.append((self._open_dir_at(top, name, st, raw), name))
            # The path ends on a directory we hold (the root, or after '..').
            st_self = os.fstat(stack[-1][0])
            return self._found(stack, ".", st_self)
        finally:
            for fd, _ in stack:
                os.close(fd)

    @staticmethod
    def _names(stack: list[tuple[int, str]]) -> list[str]:
        return [n for _, n in stack[1:]]

    def _found(self, stack: list[tuple[int, str]], name: str, st: os.stat_result | None) -> Located:
        # The caller's `finally` closes the whole stack: hand out a duplicate of the top.
        rel = tuple(self._names(stack)) + (() if name == "." else (name,))
        return Located(os.dup(stack[-1][0]), name, st, rel)

    @staticmethod
    def _open_dir_at(dir_fd: int, name: str, st: os.stat_result, raw: str) -> int:
        try:
            fd = os.open(name, _O_DIR, dir_fd=dir_fd)
        except OSError:
            # ELOOP/ENOTDIR: it was swapped for a symlink or a file since the lstat.
            raise FsError(f"{raw!r} changed while it was being opened; try again") from None
        fst = os.fstat(fd)
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
            os.close(fd)
            raise FsError(f"{raw!r} changed while it was being opened; try again")
        return fd

    # ------------------------------------------------------------------ reading

    def open_dir(self, raw: str) -> tuple[int, str]:
        """A descriptor of the directory `raw` names (owned by the caller) and its real path."""
        loc = self.locate(raw)
        try:
            if loc.st is None:
                raise FsError(f"no such file or directory: {raw!r}")
            if not stat.S_ISDIR(loc.st.st_mode):
                raise FsError(f"{raw!r} is not a directory")
            if loc.name == ".":
                return os.dup(loc.dir_fd), loc.rel_text
            return self._open_dir_at(loc.dir_fd, loc.name, loc.st, raw), loc.rel_text
        finally:
            loc.close()

    def _open_regular(self, dir_fd: int, name: str, st: os.stat_result, shown: str) -> int:
        """Open a file the lstat said is regular; refuse anything else, or a swap since."""
        if not stat.S_ISREG(st.st_mode):
            raise FsError(f"{shown!r} is a {kind_of(st.st_mode)}, not a regular file; it was not opened")
        try:
            fd = os.open(name, _O_READ, dir_fd=dir_fd)
        except OSError as exc:
            if isinstance(exc, PermissionError):
                raise
            raise FsError(f"{shown!r} changed while it was being opened; try again") from None
        try:
            fst = os.fstat(fd)
            if not stat.S_ISREG(fst.st_mode) or (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
                raise FsError(f"{shown!r} changed while it was being opened; try again")
            if fst.st_nlink > 1 and not self._links_all_inside(fst):
                raise FsError(
                    f"{shown!r} has {fst.st_nlink} hard links, not all of them inside the workspace; "
                    "it is not read"
                )
        except BaseException:
            os.close(fd)
            raise
        return fd

    def read(self, raw: str, max_bytes: int) -> tuple[str, bytes]:
        """(real path, content) of the regular file `raw` names; larger than `max_bytes` is an error."""
        loc = self.locate(raw)
        try:
            if loc.st is None:
                raise FsError(f"no such file: {raw!r}")
            if stat.S_ISDIR(loc.st.st_mode):
                raise FsError(f"{raw!r} is a directory, not a regular file")
            fd = self._open_regular(loc.dir_fd, loc.name, loc.st, raw)
        finally:
            loc.close()
        try:
            size = os.fstat(fd).st_size
            if size > max_bytes:
                raise FsError(f"{raw!r} is too large ({size} bytes); use grep to find what you need")
            return loc.rel_text, _read_all(fd, max_bytes)
        finally:
            os.close(fd)

    def read_at(self, dir_fd: int, name: str, st: os.stat_result, shown: str, max_bytes: int) -> bytes | None:
        """Content of a regular file met in a walk, or None when it is larger than `max_bytes`."""
        fd = self._open_regular(dir_fd, name, st, shown)
        try:
            if os.fstat(fd).st_size > max_bytes:
                return None
            return _read_all(fd, max_bytes)
        finally:
            os.close(fd)

    def list_dir(self, raw: str) -> list[tuple[str, str]]:
        """(name, kind) of each entry of a directory, sorted; symlinks are not followed."""
        fd, _ = self.open_dir(raw)
        try:
            out = []
            with os.scandir(fd) as it:
                for entry in it:
                    try:
                        mode = entry.stat(follow_symlinks=False).st_mode
                    except OSError:
                        continue  # gone since it was listed
                    out.append((entry.name, kind_of(mode)))
            return sorted(out)
        finally:
            os.close(fd)

    def walk(self, raw: str, skip_dirs: frozenset[str], max_files: int) -> Iterator[tuple[Entry, int, str, os.stat_result]]:
        """Everything under the directory `raw`, depth first in name order, as (entry,
        dir_fd, name, lstat of what it names). `dir_fd` is valid only until the next item.
        Symlinks are resolved (not walked into); those pointing outside are left out."""
        base_fd, base_rel = self.open_dir(raw)
        prefix = () if base_rel == "." else tuple(base_rel.split("/"))
        counter = [0]
        try:
            yield from self._walk_dir(base_fd, prefix, (), skip_dirs, max_files, counter, 0)
        finally:
            os.close(base_fd)

    def _walk_dir(self, fd: int, rel: tuple[str, ...], rel_base: tuple[str, ...], skip_dirs: frozenset[str],
                  max_files: int, counter: list[int], depth: int) -> Iterator[tuple[Entry, int, str, os.stat_result]]:
        listing: list[tuple[str, os.stat_result]] = []
        with os.scandir(fd) as it:
            for entry in it:
                try:
                    listing.append((entry.name, entry.stat(follow_symlinks=False)))
                except OSError:
                    continue
        listing.sort(key=lambda item: item[0])
        dirs = [(n, st) for n, st in listing if stat.S_ISDIR(st.st_mode) and n not in skip_dirs]
        others = [(n, st) for n, st in listing if not stat.S_ISDIR(st.st_mode)]
        link_dirs: list[tuple[str, os.stat_result]] = []
        link_files: list[tuple[str, os.stat_result]] = []
        plain: list[tuple[str, os.stat_result]] = []
        for name, st in others:
            if stat.S_ISLNK(st.st_mode):
                target = self._link_target(rel + (name,))
                if target is None:
                    continue  # points outside, dangles or loops: not shown
                (link_dirs if stat.S_ISDIR(target.st_mode) else link_files).append((name, target))
            else:
                plain.append((name, st))
        linked = {n for n, _ in link_dirs} | {n for n, _ in link_files}
        # As os.walk lists them: the directories (links to directories too), then the rest.
        for name, st in sorted(dirs + link_dirs, key=lambda item: item[0]):
            is_link = name in linked
            yield Entry("/".join(rel + (name,)), "/".join(rel_base + (name,)), "directory", is_link), fd, name, st
        for name, st in sorted(plain + link_files, key=lambda item: item[0]):
            counter[0] += 1
            if counter[0] > max_files:
                raise FsError(f"too many files under {'/'.join(rel) or '.'!r}; narrow the path")
            is_link = name in linked
            entry = Entry("/".join(rel + (name,)), "/".join(rel_base + (name,)), kind_of(st.st_mode), is_link)
            if is_link:
                # A link to a file inside: read it through its own resolved location.
                loc = self._locate(list(rel + (name,)), entry.rel)
                try:
                    if loc.st is not None:
                        yield entry, loc.dir_fd, loc.name, loc.st
                finally:
                    loc.close()
            else:
                yield entry, fd, name, st
        if depth >= MAX_DEPTH:
            return
        for name, st in dirs:
            try:
                child = self._open_dir_at(fd, name, st, "/".join(rel + (name,)))
            except FsError:
                continue  # swapped since the listing: not walked
            try:
                yield from self._walk_dir(child, rel + (name,), rel_base + (name,), skip_dirs, max_files,
                                          counter, depth + 1)
            finally:
                os.close(child)

    def _link_target(self, parts: tuple[str, ...]) -> os.stat_result | None:
        try:
            loc = self._locate(list(parts), "/".join(parts))
        except (FsError, OSError):
            return None
        try:
            return loc.st
        finally:
            loc.close()

    # ------------------------------------------------------------------ hard links

    def _links_all_inside(self, st: os.stat_result) -> bool:
        """Whether every link of this inode is a name in the workspace (walked once per call)."""
        if self._census is None:
            self._census = self._take_census()
        return self._census.get((st.st_dev, st.st_ino), 0) >= st.st_nlink

    def _take_census(self) -> dict[tuple[int, int], int]:
        counts: dict[tuple[int, int], int] = {}
        seen = 0
        todo = [os.dup(self._fd)]
        try:
            while todo:
                fd = todo.pop()
                try:
                    try:
                        it = os.scandir(fd)
                    except OSError:
                        continue
                    with it:
                        for entry in it:
                            seen += 1
                            if seen > self._max_census:
                                return {}  # too large to prove: refuse every multiply-linked read
                            try:
                                st = entry.stat(follow_symlinks=False)
                            except OSError:
                                continue
                            if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                                key = (st.st_dev, st.st_ino)
                                counts[key] = counts.get(key, 0) + 1
                            elif stat.S_ISDIR(st.st_mode):
                                try:
                                    todo.append(self._open_dir_at(fd, entry.name, st, entry.name))
                                except FsError:
                                    continue
                finally:
                    os.close(fd)
        finally:
            for fd in todo:
                os.close(fd)
        return counts

    # ------------------------------------------------------------------ writing

    def write(self, raw: str, data: bytes) -> str:
        """Replace (or create) the file `raw` names with `data`; parent directories are made."""
        loc = self.locate(raw, create_dirs=True)
        try:
            mode = 0o644
            if loc.st is not None:
                if stat.S_ISDIR(loc.st.st_mode):
                    raise FsError(f"{raw!r} is a directory")
                if not stat.S_ISREG(loc.st.st_mode):
                    raise FsError(f"{raw!r} is a {kind_of(loc.st.st_mode)}, not a regular file; not written")
                if loc.st.st_nlink > 1:
                    raise FsError(
                        f"{raw!r} has {loc.st.st_nlink} hard links; writing it would change the other names "
                        "too, so it is not written"
                    )
                mode = stat.S_IMODE(loc.st.st_mode)
            tmp = f".wf-{secrets.token_hex(6)}.tmp"
            fd = os.open(tmp, _O_NEW, mode, dir_fd=loc.dir_fd)
            try:
                try:
                    if loc.st is not None:
                        os.fchmod(fd, mode)  # keep the file's mode exactly, umask aside
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
                # renameat replaces the entry itself: a symlink swapped in since is replaced,
                # never written through.
                os.rename(tmp, loc.name, src_dir_fd=loc.dir_fd, dst_dir_fd=loc.dir_fd)
            except BaseException:
                try:
                    os.unlink(tmp, dir_fd=loc.dir_fd)
                except OSError:
                    pass
                raise
            return loc.rel_text
        except IsADirectoryError:
            raise FsError(f"{raw!r} is a directory") from None
        finally:
            loc.close()


def _read_all(fd: int, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total <= max_bytes:
        chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)
