"""The bottom layer: value types and services that every other layer shares.

Owns: the one ``Clock`` (integer ns; live and event implementations: ``hedge.model.clock``) and
the instrument's exchange filters (``hedge.model.instrument``), and Wald's SPRT on won/lost
trades (``hedge.model.sprt``: the screener's switch and the gate service's evidence share it).

Must never: import anything else from ``hedge`` (it is the layer every other one stands on), do I/O,
or hold engine state.
"""
