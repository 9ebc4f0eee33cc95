"""Runs: decode sessions per item, the pytest plugin, xdist parallelism."""
