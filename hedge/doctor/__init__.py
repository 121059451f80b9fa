"""``hedge doctor``: is this machine, configuration, key and account fit to run the daemon?

Owns: the checks (``result``: one check's outcome and the exit code; ``host``: the machine and the
configuration; ``client``: the signed REST client the venue checks use; ``venue``: the key, clock,
symbols, account mode, listen key and rate limits; ``run``: all of them in order).

Must never: change anything on the venue beyond what a check needs (a listen key is created and
kept, never deleted: that would close a running daemon's user stream), place an order, or print or
log a secret.
"""
