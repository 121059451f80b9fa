"""The daemon's one error: it cannot start as configured.

Owns: ``SetupError``, whose message the command prints as is (exit code 2).

Must never: carry a secret in its message (a missing key is named, never its value).
"""

from __future__ import annotations


class SetupError(Exception):
    """The daemon cannot start as configured (e.g. the venue's keys are missing)."""
