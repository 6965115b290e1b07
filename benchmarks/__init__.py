"""Benchmarks of overlay-parity: a large synthetic fleet generator and a runner that measures everything.

Never imported by ``harness`` or ``renderer``; see ``benchmarks/run.py`` and ``benchmarks/generator.py``.
"""
