"""Keeping the member register current: registry enrichment and lifecycle (seed 002)."""
