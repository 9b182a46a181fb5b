"""Prometheus metrics: `/metrics` (docs/operations.md lists every series)."""
