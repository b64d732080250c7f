"""JSON nested 100,000 deep, as arguments or a fake-answer file, is refused like any
malformed JSON (a located message, a usage exit), never a traceback or "internal error"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wflang.dsl import jsonread

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples" / "pr-review"
DEEP = '{"files": ' + "[" * 100_000 + "]" * 100_000 + "}"


def _wf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "wflang", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def _refused(out: subprocess.CompletedProcess[str], where: str) -> None:
    text = out.stdout + out.stderr
    assert "internal error" not in text and "Traceback" not in text, text[-2000:]
    assert out.returncode == 2, text[-2000:]
    assert "nest too deeply" in text and where in text, text[-2000:]


def test_loads_reports_where_the_nesting_gets_too_deep() -> None:
    with pytest.raises(json.JSONDecodeError) as e:
        jsonread.loads(DEEP)
    assert (e.value.lineno, e.value.colno) == (1, 10 + jsonread.DEPTH_LIMIT)  # `{` is level 1
    assert jsonread.loads("[" * 50 + "]" * 50) == eval("[" * 50 + "]" * 50)  # moderate depth reads


def test_check_args(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    _refused(_wf("check", str(EX / "pr-review.wf"), "--args", "deep.json", cwd=tmp_path), "deep.json:1:")


def test_run_args_and_args_json(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    common = ["--fake", str(EX / "fake.json"), "--yes", "--workspace", str(tmp_path)]
    _refused(_wf("run", str(EX / "pr-review.wf"), "--args", "deep.json", *common, cwd=tmp_path), "deep.json:1:")


def test_fake_init_args(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    _refused(_wf("fake", "init", str(EX / "pr-review.wf"), "--args", "deep.json", cwd=tmp_path), "deep.json:1:")


def test_a_deep_fake_answer_file(tmp_path: Path) -> None:
    (tmp_path / "answers.json").write_text('{"rules": ' + DEEP + "}")
    out = _wf("run", str(EX / "pr-review.wf"), "--args", str(EX / "args.json"), "--fake", "answers.json",
              "--yes", "--workspace", str(tmp_path), cwd=tmp_path)
    text = out.stdout + out.stderr
    assert "internal error" not in text and "Traceback" not in text, text[-2000:]
    assert out.returncode != 0 and "answers.json" in text, text[-2000:]


# ---------------------------------------------------------------- the reader's own limit


def test_nesting_python_reads_but_cannot_walk_is_refused_too() -> None:
    """600 levels read with `json.loads`, then broke whatever walked the value
    (`wf check --args` said "internal error"); the limit is jsonread's, not the reader's."""
    text = "[" * 600 + "]" * 600
    assert json.loads(text) is not None
    with pytest.raises(jsonread.TooDeep) as e:
        jsonread.loads(text)
    assert e.value.colno == jsonread.DEPTH_LIMIT + 1
    at_limit = "[" * jsonread.DEPTH_LIMIT + "]" * jsonread.DEPTH_LIMIT
    assert jsonread.loads(at_limit) == json.loads(at_limit)
    brackets_in_strings = json.dumps(["[" * 5000, "{" * 5000, '\\"[[[' * 900])
    assert jsonread.loads(brackets_in_strings) == json.loads(brackets_in_strings)
    wide = "[" + ",".join(["[1, [2]]"] * 5000) + "]"  # many brackets, shallow
    assert jsonread.loads(wide) == json.loads(wide)


@pytest.mark.parametrize("depth", [300, 900])
def test_check_args_deeper_than_the_limit_but_readable(tmp_path: Path, depth: int) -> None:
    (tmp_path / "deep.json").write_text('{"files": ' + "[" * depth + "]" * depth + "}")
    _refused(_wf("check", str(EX / "pr-review.wf"), "--args", "deep.json", cwd=tmp_path), "deep.json:1:")


def test_a_json_string_argument_that_nests_too_deeply_is_validated_on_what_is_above_the_cut() -> None:
    """A string argument that is JSON text is read as JSON (as the compiled script does),
    deeper levels cut off: validation fails where the compiled script's does, not a crash."""
    from wflang.dsl.arguments import validate_args
    from wflang.dsl.parser import parse

    program = parse('workflow w:\n    description: "x"\n\ninput files: list[str] max 5\n\n'
                    'phase "P":\n    a = agent "hi" -> str\n\nreturn {a: a}\n', "w.wf")
    values, diags = validate_args(program, '{"files": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert values == {} and [d.message for d in diags] == ["args.files[0]: expected a string, got a list"]
    values, diags = validate_args(program, '{"files": ["x", ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "]}")
    assert [d.message for d in diags] == ["args.files[1]: expected a string, got an object"]


def test_loads_capped_keeps_the_envelope_and_marks_the_deep_part() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    text = '{"id": "m1", "content": [{"input": {"a": [1, ' + deep + '], "b": ' + deep + '}}], "n": 2}'
    value = jsonread.loads_capped(text, "@@")
    assert value["id"] == "m1" and value["n"] == 2
    path = jsonread.find_marker(value, "@@")
    assert path is not None and path[:5] == ["content", 0, "input", "a", 1]
    assert jsonread.describe_path(path).startswith("/content/0/input/a/…/")
    assert jsonread.find_marker(value["content"][0]["input"]["b"], "@@") is not None  # both cut
    assert jsonread.loads_capped('{"ok": [1]}', "@@") == {"ok": [1]}
    with pytest.raises(json.JSONDecodeError):
        jsonread.loads_capped("[" * 100_000, "@@")  # unbalanced: malformed, as before


# ---------------------------------------------------------------- answers from the model


DEEP_ANSWER = "[" * 100_000 + "]" * 100_000
LIST_SCHEMA = {"type": "object", "properties": {"verdict": {"type": "array", "items": {"type": "string"}}},
               "required": ["verdict"], "additionalProperties": False}


def _deep_tool_use(name: str, field: str = "verdict") -> Any:
    from tests.runtime import messages_server as ms

    body = json.dumps(ms.tool_use((name, {field: "@DEEP@"})).body)
    return ms.Scripted(body=body.replace('"@DEEP@"', DEEP_ANSWER).encode())


@pytest.fixture
def messages_server() -> Any:
    from tests.runtime.messages_server import MessagesServer

    srv = MessagesServer().start()
    yield srv
    srv.stop()


def _backend(server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    import random

    from wflang.runtime.backends.anthropic import AnthropicBackend

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-deep-json")
    monkeypatch.delenv("WF_MODELS", raising=False)

    async def no_wait(seconds: float) -> None:
        return None

    return AnthropicBackend(base_url=server.url, request_timeout=10.0, sleep=no_wait, rng=random.Random(1))


async def test_a_deep_answer_is_sent_back_for_repair_naming_the_place(
        messages_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.runtime import messages_server as ms
    from wflang.runtime.backend import AgentRequest
    from wflang.runtime.backends.anthropic import RETURN_TOOL

    messages_server.push(_deep_tool_use(RETURN_TOOL), ms.tool_use((RETURN_TOOL, {"verdict": ["fine"]})))
    backend = _backend(messages_server, monkeypatch)
    try:
        result = await backend.run_agent(AgentRequest(prompt="x", schema=LIST_SCHEMA, label="t"), tmp_path)
    finally:
        await backend.aclose()
    assert result.value == {"verdict": ["fine"]}
    [repair] = [b for b in messages_server.requests[1]["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert repair["is_error"] is True
    assert "at /verdict/0/0/0/…/" in repair["content"] and "nest too deeply" in repair["content"]


async def test_deep_answers_fail_the_agent_with_a_located_message(
        messages_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from wflang.runtime.backend import AgentFailure, AgentRequest
    from wflang.runtime.backends.anthropic import RETURN_TOOL

    messages_server.push(*[_deep_tool_use(RETURN_TOOL) for _ in range(5)])
    backend = _backend(messages_server, monkeypatch)
    try:
        with pytest.raises(AgentFailure) as info:
            await backend.run_agent(AgentRequest(prompt="x", schema=LIST_SCHEMA, label="t"), tmp_path)
    finally:
        await backend.aclose()
    message = str(info.value)
    assert len(messages_server.requests) == 5  # the first answer and 4 repairs, as for any invalid one
    assert "still invalid after 4 repair attempts" in message and "at /verdict/0/0/0/…/" in message
    assert "nest too deeply" in message and "RecursionError" not in message


async def test_a_deep_tool_input_is_an_error_result_and_the_agent_goes_on(
        messages_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.runtime import messages_server as ms
    from wflang.runtime.backend import AgentRequest

    messages_server.push(_deep_tool_use("read_file", field="path"), ms.text("done"))
    backend = _backend(messages_server, monkeypatch)
    try:
        result = await backend.run_agent(AgentRequest(prompt="x", schema=None, label="t"), tmp_path)
    finally:
        await backend.aclose()
    assert result.value == "done"
    [answer] = [b for b in messages_server.requests[1]["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert answer["is_error"] is True and "at /path/0/0/0/…/" in answer["content"]


DEEP_RUN = """workflow deep:
    description: "one agent whose answer nests 100,000 deep"
input n: int max 3 = 1
phase "Ask":
    r = agent "list some things" -> list[str] max 3
return {r: r}
"""


def test_wf_run_through_the_sdk_fails_that_agent_cleanly(
        messages_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The whole of `wf run` against the stand-in Messages API: the agent fails with the
    place named, the run ends normally (a failed agent is none), no traceback."""
    import io

    from wflang.runtime.backends.anthropic import RETURN_TOOL
    from wflang.runtime.journal import Journal
    from wflang.runtime.run_cli import run_command

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-deep-json")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", messages_server.url)
    monkeypatch.delenv("WF_MODELS", raising=False)
    messages_server.push(*[_deep_tool_use(RETURN_TOOL, field="items") for _ in range(5)])
    wf = tmp_path / "deep.wf"
    wf.write_text(DEEP_RUN)
    out, err = io.StringIO(), io.StringIO()
    code = run_command(str(wf), json_out=True, workspace=str(tmp_path), yes=True, request_timeout=10,
                       stall_timeout=30, stdout=out, stderr=err, stdin=io.StringIO())
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text and "internal error" not in text and "RecursionError" not in text, text[-3000:]
    assert len(messages_server.requests) == 5
    with Journal.open(tmp_path) as journal:
        detail = journal.get_run(journal.list_runs()[0].id)
    [agent] = detail.agents
    assert agent.status == "failed" and "nest too deeply" in (agent.error or ""), (code, text[-2000:])
    assert "/items/0/0/" in (agent.error or "")


# ---------------------------------------------------------------- configuration and the journal


def test_a_deep_wf_models_table_is_a_config_error() -> None:
    from wflang.runtime.models import ModelConfigError, model_table

    with pytest.raises(ModelConfigError, match="not valid JSON.*nest too deeply"):
        model_table(env={"WF_MODELS": "[" * 100_000 + "]" * 100_000})


def test_a_deep_price_table_falls_back_to_the_built_in_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    from wflang.runtime import run_cli

    monkeypatch.setenv(run_cli.PRICES_ENV, '{"m": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert run_cli._prices() == dict(run_cli.PRICES)


def test_a_deep_journal_value_is_a_journal_error(tmp_path: Path) -> None:
    import sqlite3
    from contextlib import closing

    from wflang.runtime.backend import AgentRequest, AgentResult, Usage
    from wflang.runtime.journal import Journal, JournalError, content_key, journal_path

    req = AgentRequest(prompt="p", schema=None, label="l")
    with Journal.open(tmp_path) as j:
        run_id = j.start_run("w", "w.wf", 'workflow w\nagent "p"\n', {}, None)
        key = content_key(req)
        j.record_agent(run_id, key, req, "done", AgentResult("x", Usage(), "m"), None, None, 1.0, 2.0)
    with closing(sqlite3.connect(journal_path(tmp_path), isolation_level=None)) as raw:
        raw.execute("UPDATE agents SET result_json = ?", ("[" * 100_000 + "]" * 100_000,))
    with Journal.open(tmp_path) as j:
        for read in (lambda: j.cached(run_id, key), lambda: j.get_run(run_id)):
            with pytest.raises(JournalError, match="nest too deeply"):
                read()


def test_a_deep_batch_result_fails_its_batch_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK reads batch results itself (JSON lines) and recurses per level: a result
    100,000 deep fails the batch's agents with a message, not the run with a traceback."""
    import io

    from tests.runtime.batch_server import BatchServer
    from wflang.runtime.journal import Journal
    from wflang.runtime.run_cli import run_command

    fake = {"rules": [], "default": {"reply": {"ok": True, "why": "@DEEP@"}}}
    server = BatchServer(fake).start()
    server.results_text = lambda text: text.replace('"@DEEP@"', DEEP_ANSWER, 1)
    try:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-deep-json")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.delenv("WF_MODELS", raising=False)
        wf = tmp_path / "b.wf"
        wf.write_text('workflow b:\n    description: "x"\ninput xs: list[str] max 3\ntype V:\n    ok: bool\n'
                      '    why: str\nphase "P" with tools=none:\n    r = fanout x in xs:\n'
                      '        agent "judge {x}" -> V\nreturn {r: r}\n')
        out, err = io.StringIO(), io.StringIO()
        run_command(str(wf), args_json=json.dumps({"xs": ["a", "b"]}), workspace=str(tmp_path), yes=True,
                    json_out=True, batch=True, stdout=out, stderr=err, stdin=io.StringIO())
    finally:
        server.stop()
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text and "internal error" not in text and "RecursionError" not in text, text[-3000:]
    with Journal.open(tmp_path) as journal:
        detail = journal.get_run(journal.list_runs()[0].id)
    assert {a.status for a in detail.agents} == {"failed"}
    assert all("nests arrays and objects too deeply" in (a.error or "") for a in detail.agents)


# ---------------------------------------------------------------- the node host and the compiled script

NODE = shutil.which("node")
HOST = ROOT / "wflang" / "transpiler" / "host.mjs"
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

DEEP_WF = """workflow deep:
    description: "agents whose answers may nest 100,000 deep"
input n: int max 3 = 1
type Rec:
    a: list[list[str] max 2] max 2
phase "Ask":
    r = agent "list some things" -> list[str] max 3
    s = agent "one record" -> Rec
    t = agent "plain text"
    many = fanout i in range(3):
        agent "item {i}" -> Rec
return {r: r, s: s, t: t, many: many}
"""


def _compiled(tmp_path: Path) -> Path:
    (tmp_path / "deep.wf").write_text(DEEP_WF)
    out = _wf("compile", "deep.wf", "-o", "deep.js", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return tmp_path / "deep.js"


@needs_node
def test_the_compiled_script_fails_agents_whose_answers_nest_too_deeply(tmp_path: Path) -> None:
    """An answer nested 100,000 deep reaches the script's own code (fitting it to the
    schema): each such agent is `none`, as any answer that does not fit; the run ends
    normally, with every agent started once."""
    script = _compiled(tmp_path)
    out = subprocess.run([NODE, str(ROOT / "tests" / "transpiler" / "deep_answers.mjs"), str(script)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert "threw" not in report, report
    # a fanout keeps the items whose agent did not fail (docs/semantics.md), as `wf run`
    assert report["result"] == {"r": None, "s": None, "t": "text answer", "many": []}
    assert report["started"] == 6
    assert any("3 of 3 items failed" in line for line in report["logs"]), report["logs"]


@needs_node
def test_the_node_host_refuses_a_deep_fake_file_as_wf_run_does(tmp_path: Path) -> None:
    script = _compiled(tmp_path)
    fake = json.dumps({"validate": False, "rules": [{"prompt": "list", "reply": "@D@"}]})
    (tmp_path / "fake.json").write_text(fake.replace('"@D@"', DEEP_ANSWER))
    host = subprocess.run([NODE, str(HOST), "--script", str(script), "--fake", "fake.json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    run = _wf("run", "deep.wf", "--fake", "fake.json", "--yes", "--workspace", str(tmp_path), cwd=tmp_path)
    assert host.returncode == 2 and run.returncode == 2, (host.stderr, run.stderr)
    column = fake.index('"@D@"') + (jsonread.DEPTH_LIMIT - 3) + 1  # 3 levels above the reply; from 1
    message = f"fake file fake.json: invalid JSON at line 1, column {column}: arrays and objects nest too deeply here"
    assert message in host.stderr and message in run.stderr, (host.stderr, run.stderr)


@needs_node
def test_the_node_host_refuses_a_deep_args_file_as_wf_run_does(tmp_path: Path) -> None:
    script = _compiled(tmp_path)
    (tmp_path / "args.json").write_text('{"n": ' + DEEP_ANSWER + "}")
    (tmp_path / "fake.json").write_text('{"rules": []}')
    host = subprocess.run([NODE, str(HOST), "--script", str(script), "--fake", "fake.json", "--args", "args.json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    run = _wf("run", "deep.wf", "--args", "args.json", "--fake", "fake.json", "--yes", "--workspace",
              str(tmp_path), cwd=tmp_path)
    assert host.returncode == 2 and run.returncode == 2, (host.stderr, run.stderr)
    message = "args.json:1:206: not valid JSON: arrays and objects nest too deeply here (more than 200 levels)"
    assert message in host.stderr and message in run.stderr, (host.stderr, run.stderr)


@needs_node
def test_arguments_as_deep_json_text_get_the_same_refusal_in_both_targets(tmp_path: Path) -> None:
    """Arguments that are a JSON string of JSON text: the compiled script's JSON.parse
    reads any depth; `wf run` reads what is above the cut, where validation stops alike."""
    script = _compiled(tmp_path)
    (tmp_path / "args.json").write_text(json.dumps('{"n": ' + DEEP_ANSWER + "}"))
    (tmp_path / "fake.json").write_text('{"rules": []}')
    host = subprocess.run([NODE, str(HOST), "--script", str(script), "--fake", "fake.json", "--args", "args.json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    run = _wf("run", "deep.wf", "--args", "args.json", "--fake", "fake.json", "--yes", "--workspace",
              str(tmp_path), cwd=tmp_path)
    assert host.returncode == 1 and run.returncode != 0, (host.stderr, run.stderr)
    message = "args.n: expected a number, got a list"
    assert message in host.stderr and message in run.stderr, (host.stderr, run.stderr)
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
