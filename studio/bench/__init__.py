"""``choreo bench``: performance figures, each a ratio against a reference timed in the same run.

Not part of the engine's API: these modules drive the engine the way a user would and time it.
"""
