"""Benchmarks that run against an in-process sandbox and print figures and ratios."""
