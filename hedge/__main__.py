"""``python -m hedge``: the same entry point as the ``hedge`` console script.

Owns: nothing but the hand-over to ``hedge.cli.main`` and its exit code.

Must never: hold any logic of its own (parsing, set-up and exit codes live in ``hedge.cli``).
"""

import sys

from hedge.cli import main

sys.exit(main())
