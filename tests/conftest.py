"""Hypothesis profiles for the whole suite.

- ``ci`` (the default): Hypothesis' usual 100 examples, derandomized (the same examples on every run, so
  CI is deterministic), no example database written into the checkout, no per-example deadline.
- ``long``: many random examples for a fuzzing session: ``pytest tests/hardening --hypothesis-profile=long``.

Tests that set ``max_examples`` themselves keep it; the fuzz tests in tests/hardening run a per-test
multiple of 40 examples under ``ci`` (they are many) and of 2000 under ``long``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SLOW_IS_FINE)
settings.register_profile("long", max_examples=2000, deadline=None, derandomize=False, database=None,
                          suppress_health_check=_SLOW_IS_FINE)
settings.load_profile("ci")
