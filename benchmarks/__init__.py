"""Benchmarks: speed and memory of every pipeline stage next to baselines (``python -m benchmarks.run``)."""
