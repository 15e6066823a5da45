"""Settings every test shares.

Hypothesis's per-example deadline (200 ms by default) is a timing assertion, and the
suite asserts behaviour, never speed (performance lives in `bench/`): on a loaded
machine a slow example must not fail a test. Examples stay bounded by `max_examples`.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("eventscope", deadline=None)
settings.load_profile("eventscope")
