"""Signals and sizing: per-tick microstructure features, calibrator, scores, SPRT, sizing and the
screener that turns features into order intents. Must never: send orders, veto orders, or know
a wire format.
"""
