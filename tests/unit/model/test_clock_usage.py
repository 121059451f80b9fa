"""One clock: no module of ``hedge`` reads the time itself, except the few listed here (and why).

Every engine component is given the one ``hedge.model.clock.Clock`` (the daemon's ``LiveClock``,
replay's and the tests' ``EventClock``). This test parses every module and fails on a direct read
of the time (``time.time()``, ``time.time_ns()``, ``time.monotonic()``, ``time.perf_counter()``,
``from time import ...``, ``datetime.now()``, ``loop.time()``) outside ``ALLOWED``; it also fails
on an ``ALLOWED`` entry that no longer reads the time, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hedge

ROOT = Path(hedge.__file__).parent

TIME_READS = frozenset({
    "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "process_time",
    "process_time_ns", "thread_time", "thread_time_ns", "clock_gettime", "clock_gettime_ns", "gmtime", "localtime",
})
DATETIME_READS = frozenset({"now", "utcnow", "today"})

# module (relative to hedge/) -> the time functions it may read, and why (each module's docstring says so too)
ALLOWED: dict[str, tuple[frozenset[str], str]] = {
    "model/clock.py": (frozenset({"time_ns", "monotonic_ns"}), "the one clock itself"),
    "state/looplag.py": (frozenset({"perf_counter"}), "the event-loop lag probe: a duration measurement"),
    "shadow/cost.py": (frozenset({"perf_counter"}), "the shadow's handling time of a sampled tick: a duration measurement"),
    "feeds/recording.py": (frozenset({"monotonic", "perf_counter"}),
                           "a recording played at a multiple of real time, and the run's wall time (events/s)"),
    "replay/runner.py": (frozenset({"monotonic", "perf_counter"}),
                         "replay --speed paces on real time, and the run's wall time (events/s)"),
    "bus.py": (frozenset({"monotonic", "perf_counter"}),
               "the handler-error log throttle: real time between log lines; a timed cascade's duration"),
    "feeds/codec.py": (frozenset({"monotonic"}), "the malformed-frame log throttle: real time between log lines"),
    "commands/record.py": (frozenset({"monotonic"}), "a command line tool's elapsed time, not an engine component"),
    "commands/progress.py": (frozenset({"monotonic"}), "a progress bar's elapsed time and rate: a display, never an outcome"),
    "commands/sweep.py": (frozenset({"perf_counter"}), "a sweep's wall time (sweep.json): a duration measurement"),
    "research/points.py": (frozenset({"perf_counter"}), "a sweep point's wall_s column: a duration measurement"),
    "commands/convert.py": (frozenset({"perf_counter"}), "a command line tool's elapsed time per file converted"),
    # The local exchange referees the engine and shares no code with it: it keeps its own server clock.
    "exchange/server.py": (frozenset({"time", "monotonic"}), "the local exchange's server time and fault timing"),
    "exchange/streams.py": (frozenset({"monotonic"}), "the local exchange's stalled-stream fault"),
    "exchange/player.py": (frozenset({"monotonic_ns"}), "the local exchange plays its market in real time"),
}


def time_reads(path: Path) -> set[str]:
    """The time functions ``path`` reads: ``time.X``, ``[datetime.]datetime.now()`` and friends,
    ``from time import X``, ``<loop>.time()``."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
            if owner == "time" and isinstance(node.value, ast.Name) and node.attr in TIME_READS:
                found.add(node.attr)
            elif owner in ("datetime", "date") and node.attr in DATETIME_READS:
                found.add(f"datetime.{node.attr}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "time"
              and not node.args and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "time")):
            found.add("loop.time")
    return found


def test_no_module_reads_the_time_but_the_clock_and_the_allowed() -> None:
    offenders = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        extra = time_reads(path) - ALLOWED.get(rel, (frozenset(), ""))[0]
        if extra:
            offenders[rel] = sorted(extra)
    assert not offenders, f"take the engine's Clock (hedge.model.clock) instead of reading the time: {offenders}"


def test_the_allow_list_only_names_modules_that_still_read_the_time() -> None:
    stale = {rel: sorted(allowed - time_reads(ROOT / rel)) for rel, (allowed, _why) in ALLOWED.items()
             if not (ROOT / rel).exists() or allowed - time_reads(ROOT / rel)}
    assert not stale, f"shrink ALLOWED: {stale}"


def test_the_scan_sees_every_kind_of_read(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("import time\nfrom time import monotonic\nimport datetime\n"
                   "a = time.time_ns()\nb = datetime.datetime.now()\nc = loop.time()\nd = time.sleep(0)\n")
    assert time_reads(src) == {"monotonic", "time_ns", "datetime.now", "loop.time"}  # time.sleep is no read
