"""Research at scale: parameter sweeps and walk-forward over recordings (on Ray), and run reports.

Owns: nothing itself; see the modules (spec, points, sweep, table, charts, calibration, run_report).

Must never: change how a replay runs (each point is a plain ``hedge.replay.runner.Replay``).
"""
