"""Probes: checks of a driver that are not decodes of a vector."""
