"""One doctor check's outcome and the exit code of a set of them.

Owns: ``Check`` (name, PASS / WARN / FAIL, what was found, a hint for what to do), its one-line
text and JSON forms, and ``exit_code``: 0 all pass, 1 warnings only, 2 any failure.

Must never: run a check or hold a secret in ``detail`` or ``hint``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec

Status = Literal["PASS", "WARN", "FAIL"]
EXIT_CODES: dict[Status, int] = {"PASS": 0, "WARN": 1, "FAIL": 2}


class Check(msgspec.Struct, frozen=True):
    name: str
    status: Status
    detail: str
    hint: str = ""

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name:<18} {self.detail}"
        return f"{text}  -> {self.hint}" if self.hint and self.status != "PASS" else text


def passed(name: str, detail: str) -> Check:
    return Check(name, "PASS", detail)


def exit_code(checks: Iterable[Check]) -> int:
    return max((EXIT_CODES[c.status] for c in checks), default=0)
