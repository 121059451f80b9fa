"""``hedge sync --log-dir DIR [--once]``: the one-way Firestore sync of a log directory's state files, standalone.

Owns: running ``FirestoreSync`` over ``<DIR>/state`` on its own (the daemon runs the same service
with ``features.firestore_sync``): until SIGINT/SIGTERM, or one round with ``--once`` (exit 1 when
something is left unwritten). Prints the sync's counters as one JSON line at the end.

Must never: read Firestore, write into the log directory, or print a credential.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from hedge.commands.common import add_config_arg, load_config_or_report


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-dir", metavar="DIR", default="logs", help="the engine's log directory (default: logs)")
    p.add_argument("--once", action="store_true", help="one round (read, queue, commit), then exit")
    add_config_arg(p)


async def _sync(log_dir: str, once: bool, cfg_dir: str | None) -> int:
    import dataclasses

    from hedge.commands.common import SignalStop
    from hedge.model.clock import LiveClock
    from hedge.state.firestore.service import FirestoreSync
    from hedge.state.manifest import state_dir

    cfg = load_config_or_report(cfg_dir)
    if cfg is None:
        return 2
    sync = FirestoreSync(state_dir(log_dir), cfg.runtime.firestore, LiveClock())
    rc = 0
    if once:
        try:
            await sync.step()
        finally:
            await sync.close()
        rc = 1 if len(sync.pending) else 0
    else:
        stop = SignalStop()
        task = asyncio.create_task(sync.run())
        try:
            await stop.event.wait()
        finally:
            stop.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        rc = stop.exit_code
    print(json.dumps(dataclasses.asdict(sync.stats)))
    return rc


def main(args: argparse.Namespace) -> int:
    try:
        import google.cloud.firestore  # noqa: F401  (the optional extra: fail early, not at the first commit)
    except ImportError:
        print("hedge sync: google-cloud-firestore is missing: pip install 'hedge[firestore]'", file=sys.stderr)
        return 2
    return asyncio.run(_sync(args.log_dir, args.once, args.config))
