"""Benchmarks: run separately from the tests (see the README's Performance section)."""
