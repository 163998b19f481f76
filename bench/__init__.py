"""nqsync's benchmark suite (issue 7): `uv run python -m bench` (see docs/benchmarks.md)."""
