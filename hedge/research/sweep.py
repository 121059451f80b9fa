"""Running a sweep's points as Ray tasks: a local Ray by default, an existing cluster with an address.

Owns: starting or joining Ray (``connect``: ``address`` None starts a local Ray of ``workers``
CPUs without its dashboard; ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT`` joins a cluster through
``hedge.research.cluster``; a Ray already initialised in this process is used as it is),
submitting one task per point (one CPU each, no retries: a replay is deterministic, a retry would
fail the same way; with ``ship`` the point's recordings and configuration travel through Ray's
object store, ``hedge.research.shipping``, for workers that do not share this file system), collecting the results as
they finish (``on_done`` after each: a progress bar), a task Ray itself lost (a worker that died)
as the point's error, and returning the results in point order, so the same spec gives the
same table whatever order the tasks finished in. ``run_serial`` runs the same points one after
another in this process (the benchmark's baseline; no Ray).

Must never: drop a point (every point gets a row), or order rows by finishing time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hedge.research import cluster, shipping
from hedge.research.points import METRIC_COLUMNS, PointResult, run_point
from hedge.research.spec import Point

OnDone = Callable[[int, PointResult], None]


def connect(address: str | None, workers: int) -> dict[str, Any]:
    """Start or join Ray; returns what it has (the cluster's CPUs, whether this call started it)."""
    if address is not None and address != cluster.AUTO:
        cluster.probe(address)  # the form, and something listening there, before Ray is imported or asked
    import ray

    started = False
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        else:
            cluster.join(address)
        started = True
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return {"cpus": resources.get("CPU", 0.0), "started": started}


def _lost(point: Point, exc: BaseException) -> PointResult:
    row: dict[str, Any] = {"point": point.index, **point.params, **dict.fromkeys(METRIC_COLUMNS)}
    row["error"] = f"ray: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return PointResult(row=row)


def run_ray(points: Sequence[Point], config_dir: str | None, envs: Sequence[Mapping[str, str]],
            on_done: OnDone | None = None, ship: bool = False) -> list[PointResult]:
    """Every point as a Ray task (Ray must be connected); results in point order. ``ship``: the
    inputs go through the object store (the workers need not see this machine's files)."""
    import ray

    remote = ray.remote(num_cpus=1, max_retries=0)
    if ship:
        cargo = shipping.ship(points, config_dir)
        shipped = remote(shipping.run_shipped)
        refs = [shipped.remote(p, dict(env), shipping.for_point(cargo, p)) for p, env in zip(points, envs, strict=True)]
    else:
        task = remote(run_point)
        refs = [task.remote(p, config_dir, dict(env)) for p, env in zip(points, envs, strict=True)]
    pending = {ref: i for i, ref in enumerate(refs)}
    out: list[PointResult | None] = [None] * len(points)
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            i = pending.pop(ref)
            try:
                res: PointResult = ray.get(ref)
            except ray.exceptions.RayError as exc:
                res = _lost(points[i], exc)
            out[i] = res
            done += 1
            if on_done is not None:
                on_done(done, res)
    return [r for r in out if r is not None]


def run_serial(points: Sequence[Point], config_dir: str | None, envs: Sequence[Mapping[str, str]],
               on_done: OnDone | None = None) -> list[PointResult]:
    """The same points one after another in this process."""
    out = []
    for n, (p, env) in enumerate(zip(points, envs, strict=True), 1):
        out.append(run_point(p, config_dir, env))
        if on_done is not None:
            on_done(n, out[-1])
    return out
