"""`python -m wflang ...` is `wf ...`, for machines where the script directory is not on PATH."""

import sys

from wflang.cli import main

sys.exit(main())
