"""``python -m hedge``: the same entry point as the ``hedge`` console script."""

import sys

from hedge.cli import main

sys.exit(main())
