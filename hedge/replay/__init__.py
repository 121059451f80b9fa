"""``hedge replay``: the whole pipeline over recordings, on the simulated venue, in event time."""
