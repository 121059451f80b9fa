"""The shadow pipeline: a candidate configuration deciding on the live ticks, sending nothing (docs/intel.md).

Owns: the candidate's configuration (``candidate``), the comparison with the live pipeline
(``compare``) and the second pipeline itself (``pipeline``).

Must never: send an order to a real venue, or touch the live pipeline's ledger, risk state or bus
decisions (it only listens to the live bus, and publishes its report there).
"""
