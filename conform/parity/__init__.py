"""Parity: two drivers' results compared case by case (waivers and the verdict come later)."""

from conform.parity.cases import Case, differences

__all__ = ["Case", "differences"]
