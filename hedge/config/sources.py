"""Where each configuration value came from: its section's file, calibrator.yaml or the environment.

Owns: ``Sources`` — the file of each section, the keys calibrator.yaml overlaid on strategy.yaml
and the keys an environment variable set — and naming that origin (``where``) so that an error or
a warning about a value points at what set it ("environment HEDGE_RISK__DAILY_DD_LIMIT", not
configs/risk.yaml).

Must never: read a file or the environment, or change a value.
"""

from __future__ import annotations

from pathlib import Path

from hedge.config.errors import ConfigError


def _under(key: str, path: str) -> bool:
    """Whether ``key`` is ``path`` or below it (``a.b`` and ``a[0]`` are below ``a``)."""
    return key == path or key.startswith((f"{path}.", f"{path}["))


class Sources:
    """The origin of every value of one load: a section's file unless an overlay set the key."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._set: dict[tuple[str, str], str] = {}  # (section, key path) -> what set it, in set order

    def file(self, section: str) -> str:
        return str(self.directory / f"{section}.yaml")

    def set_by(self, section: str, path: str, origin: str) -> None:
        """``origin`` (a file, "environment NAME") set ``section``'s key ``path`` and everything below it."""
        for sec, p in [k for k in self._set if k[0] == section and _under(k[1], path)]:
            del self._set[(sec, p)]  # replaced as a whole
        self._set[(section, path)] = origin

    def where(self, section: str, key: str) -> str:
        """What set ``section``'s ``key`` (key path as in an error: ``a.b``, ``a[0]``): the deepest overlay
        that covers it, else the section's file."""
        found = [(len(p), origin) for (sec, p), origin in self._set.items() if sec == section and _under(key, p)]
        return max(found)[1] if found else self.file(section)

    def error(self, section: str, key: str, expected: str) -> ConfigError:
        """A ``ConfigError`` about ``section``'s ``key``, named after what set it."""
        return ConfigError(self.where(section, key), key, expected)
