"""Parity: two drivers' results compared item by item and case by case, with reviewed
waivers, and the replacement-readiness verdict."""

from conform.parity.cases import Case, differences
from conform.parity.compare import ItemResult, State, Waiver, compare, compare_all, load_waivers
from conform.parity.verdict import Verdict, judge

__all__ = [
    "Case",
    "ItemResult",
    "State",
    "Verdict",
    "Waiver",
    "compare",
    "compare_all",
    "differences",
    "judge",
    "load_waivers",
]
