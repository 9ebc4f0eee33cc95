"""The replacement-readiness verdict: READY only when nothing stands in the way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conform.parity.compare import ItemResult, State
from conform.run.record import Record, Status


@dataclass(frozen=True, slots=True)
class Verdict:
    ready: bool
    blockers: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def word(self) -> str:
        return "READY" if self.ready else "NOT READY"

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.word,
            "blockers": list(self.blockers),
            "counts": self.counts,
            "statuses": self.statuses,
        }


def judge(
    results: Sequence[ItemResult], candidates: Sequence[Record], bench: dict[str, Any] | None = None
) -> Verdict:
    """READY iff every item is identical (modulo waivers), nothing crashed or timed out, and
    the performance bounds hold when a benchmark was run."""
    blockers = [
        f"{r.name}: {r.state.value}: {r.detail}"
        for r in results
        if r.state not in (State.IDENTICAL, State.WAIVED)
    ]
    statuses = Counter(r.status.value for r in candidates)
    for record in candidates:
        if record.status in (Status.CRASHED, Status.TIMEOUT):
            blockers.append(f"{record.item.name}: the candidate {record.status.value}")
    if not results:
        blockers.append("nothing was compared: no verdict without upstream visl's side")
    for name, bound in (bench or {}).get("bounds", {}).items():
        if not bound.get("holds", False):
            blockers.append(f"performance bound {name}: {bound.get('detail', 'does not hold')}")
    counts = Counter(r.state.value for r in results)
    return Verdict(not blockers, tuple(dict.fromkeys(blockers)), dict(counts), dict(statuses))
