"""``python -m hedge``: the same entry point as the ``hedge`` console script.

Owns: the hand-over to ``hedge.cli.main`` and its exit code, and one repair: run from the folder
that holds a clone named ``hedge``, that folder (sys.path[0] is the working directory) is found
first as a namespace package and shadows the installed one; the real package is imported instead.

Must never: hold any other logic (parsing, set-up and exit codes live in ``hedge.cli``).
"""

import importlib
import sys
from pathlib import Path

if getattr(sys.modules["hedge"], "__file__", None) is None:  # a namespace package: the shadowing folder
    del sys.modules["hedge"]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    importlib.import_module("hedge")

from hedge.cli import main

sys.exit(main())
