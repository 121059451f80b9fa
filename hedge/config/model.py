"""The whole configuration: one section per file, and which file holds which section.

Owns: ``Config`` (runtime, risk, strategy, symbols and the directory they came from), the names
of the four files (``CONFIG_FILES``), the machine-written calibrator file's name, the default
config directory, and the built-in defaults (``default_config``).

Must never: read a file or the environment (``hedge.config.loading`` does), or hold a secret.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from hedge.config.risk import RiskConfig
from hedge.config.runtime import RuntimeConfig
from hedge.config.strategy import StrategyConfig
from hedge.config.symbols import SymbolsConfig
from hedge.config.types import Section

CONFIG_FILES = ("runtime", "risk", "strategy", "symbols")
# Machine-written by ``hedge calibrate``; when present its keys override strategy.yaml's ``calibrator``.
CALIBRATOR_FILE = "calibrator.yaml"
FILLPROB_FILE = "fillprob.yaml"  # written by hedge calibrate-fills; overlays runtime router.auto.model
DEFAULT_CONFIG_DIR = Path("configs")


class Config(msgspec.Struct, kw_only=True, frozen=True):
    runtime: RuntimeConfig = msgspec.field(default_factory=RuntimeConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    strategy: StrategyConfig = msgspec.field(default_factory=StrategyConfig)
    symbols: SymbolsConfig = msgspec.field(default_factory=SymbolsConfig)
    source: str = ""  # the directory it was loaded from ("" = built-in defaults)


SECTION_TYPES: dict[str, type[Section]] = {
    "runtime": RuntimeConfig,
    "risk": RiskConfig,
    "strategy": StrategyConfig,
    "symbols": SymbolsConfig,
}


def default_config() -> Config:
    """The built-in defaults, without reading files or the environment."""
    return Config()
