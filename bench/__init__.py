"""Roster's benchmarks: cold start, AWS calls per route, package size (docs/performance.md)."""
