"""One module per CLI command (``add_arguments`` + ``main``); see ``hedge/cli.py``.

Owns: the convention every command follows: ``add_arguments(parser)`` declares its options,
``main(args) -> int`` returns the exit code (0 done, 1 failed, 2 bad usage or configuration).

Must never: hold trading logic (the commands parse, wire existing services, print and exit),
or import heavy modules at import time (each ``main`` imports what it needs, so ``hedge --help``
and ``hedge kill`` start fast).
"""
