"""The market's surfaces built from the latest events: symbol and hybrid scores, funding, basis.

Owns: turning the model's latest scores, signals and marks into ``symbol_scores``,
``hybrid_scores`` (ranked by hybrid score, then symbol), ``funding_snapshot`` (annualized at three
fundings a day), ``basis_snapshot`` (mark vs index, in bps) and ``factor_diagnostics`` (the latest
``FactorReport``).

Must never: do I/O, keep state of its own (the model holds the latest values), or rank by anything
but the published scores.
"""

from __future__ import annotations

from hedge.events import FactorReport, MarkPrice, StrategyScore, SymbolScore
from hedge.state import schemas as s
from hedge.state.mirror import mirror


def symbol_scores(
    scores: dict[str, SymbolScore], strategy_scores: dict[tuple[str, str], StrategyScore]
) -> s.SymbolScores:
    return s.SymbolScores(
        symbols=[mirror(s.SymbolScoreRow, x, updated_ns=x.recv_ns) for _, x in sorted(scores.items())],
        strategies=[mirror(s.StrategyScoreRow, x, updated_ns=x.recv_ns)
                    for _, x in sorted(strategy_scores.items())],
    )


def hybrid_scores(scores: dict[str, SymbolScore], signals: dict[str, dict[str, float]]) -> s.HybridScores:
    symbols = set(scores) | set(signals)

    def key(sym: str) -> tuple[float, str]:
        sc = scores.get(sym)
        return (-(sc.hybrid_score if sc is not None else float("-inf")), sym)

    rows = []
    for rank, sym in enumerate(sorted(symbols, key=key), start=1):
        sc = scores.get(sym)
        rows.append(
            s.HybridRow(
                rank=rank,
                symbol=sym,
                hybrid_score=sc.hybrid_score if sc is not None else 0.0,
                symbol_score=sc.symbol_score if sc is not None else 0.0,
                enabled=sc.enabled if sc is not None else True,
                signals=dict(sorted(signals.get(sym, {}).items())),
            )
        )
    return s.HybridScores(ranking=rows)


def funding(marks: dict[str, MarkPrice]) -> s.FundingSnapshot:
    return s.FundingSnapshot(
        symbols=[mirror(s.FundingRow, m, annualized=m.funding_rate * 3 * 365) for _, m in sorted(marks.items())]
    )


def basis(marks: dict[str, MarkPrice]) -> s.BasisSnapshot:
    def bps(m: MarkPrice) -> float:
        return (m.mark_price - m.index_price) / m.index_price * 1e4 if m.index_price else 0.0

    return s.BasisSnapshot(symbols=[mirror(s.BasisRow, m, basis_bps=bps(m)) for _, m in sorted(marks.items())])


def factor_diagnostics(report: FactorReport | None, enabled: bool) -> s.FactorDiagnosticsState:
    if report is None:
        return s.FactorDiagnosticsState(enabled=enabled)
    return s.FactorDiagnosticsState(
        enabled=enabled,
        adaptive=report.adaptive,
        horizon_s=report.horizon_s,
        window_samples=report.window_samples,
        report_ms=report.ts_ms,
        factors=[mirror(s.FactorRowState, r) for r in report.rows],
        weights=dict(zip(("signal", "expectancy", "liquidity"), report.weights, strict=True)),
        weights_history=[s.WeightPoint(ts_ms=t, signal=a, expectancy=b, liquidity=c)
                         for t, a, b, c in report.weights_history],
    )
