"""Two drivers' records, item by item: identical, waived, differs, missing, or failed.

The reference side is upstream visl (a live c-visl run, or the references recorded from
it); the candidate is the driver under judgement.  A probe's evidence is a case list and
is compared case by case, so a waiver can name single cases; other evidence is compared
whole, and the first divergence is explained.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from conform.errors import ConformError
from conform.parity.explain import explain
from conform.run.record import Record, Status


class WaiverError(ConformError):
    """The waiver file is malformed: which entry and which field."""


@dataclass(frozen=True, slots=True)
class Waiver:
    """A reviewed exception: items and cases (shell patterns) that may differ, and why."""

    item: str
    case: str
    reason: str
    reviewed_by: str

    def covers(self, item: str, case: str) -> bool:
        return fnmatch.fnmatchcase(item, self.item) and fnmatch.fnmatchcase(case, self.case)


def load_waivers(path: Path) -> list[Waiver]:
    """``{"waivers": [{"item", "case", "reason", "reviewed_by"}, ...]}``; every field required."""
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    waivers = []
    for n, entry in enumerate(data.get("waivers", [])):
        missing = [k for k in ("item", "case", "reason", "reviewed_by") if not entry.get(k)]
        if missing:
            raise WaiverError(f"{path}: waiver {n} lacks {', '.join(missing)}")
        waivers.append(Waiver(entry["item"], entry["case"], entry["reason"], entry["reviewed_by"]))
    return waivers


class State(Enum):
    IDENTICAL = "identical"
    WAIVED = "waived"
    """Differs only where a reviewed waiver allows it."""
    DIFFERS = "differs"
    MISSING = "missing"
    FAILED = "failed"
    """A side did not finish (failed, crashed, timed out): nothing to compare."""


@dataclass(frozen=True, slots=True)
class ItemResult:
    name: str
    state: State
    detail: str = ""
    """The first divergence (case, path, both values), or why a side failed."""
    cases: int = 0
    differing: int = 0
    waived: int = 0
    reasons: tuple[str, ...] = ()


def _case_lists(evidence: Any) -> list[tuple[str, Any]] | None:
    if isinstance(evidence, list) and all(
        isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) for e in evidence
    ):
        return [(name, outcome) for name, outcome in evidence]
    return None


def compare(
    name: str, reference: Record | None, candidate: Record | None, waivers: Sequence[Waiver] = ()
) -> ItemResult:
    if reference is None or candidate is None:
        side = "reference" if reference is None else "candidate"
        return ItemResult(name, State.MISSING, f"no {side} record")
    for side, record in (("reference", reference), ("candidate", candidate)):
        if record.status is not Status.OK:
            error = (record.error or "").strip().splitlines()
            return ItemResult(
                name, State.FAILED, f"{side} {record.status.value}: {error[0] if error else ''}"
            )
    ref_cases, cand_cases = _case_lists(reference.evidence), _case_lists(candidate.evidence)
    if ref_cases is None or cand_cases is None:
        if reference.evidence == candidate.evidence:
            return ItemResult(name, State.IDENTICAL, cases=1)
        return ItemResult(name, State.DIFFERS, explain(reference.evidence, candidate.evidence), 1, 1)
    if [c for c, _ in ref_cases] != [c for c, _ in cand_cases]:
        missing = sorted({c for c, _ in ref_cases} - {c for c, _ in cand_cases})[:3]
        extra = sorted({c for c, _ in cand_cases} - {c for c, _ in ref_cases})[:3]
        return ItemResult(
            name,
            State.DIFFERS,
            f"case lists differ: missing {missing}, extra {extra}",
            len(ref_cases),
            abs(len(ref_cases) - len(cand_cases)),
        )
    first = ""
    differing = waived = 0
    reasons: list[str] = []
    for (case, ref), (_, cand) in zip(ref_cases, cand_cases, strict=True):
        if ref == cand:
            continue
        waiver = next((w for w in waivers if w.covers(name, case)), None)
        if waiver is not None:
            waived += 1
            if waiver.reason not in reasons:
                reasons.append(waiver.reason)
            continue
        differing += 1
        if not first:
            first = f"{case}: {explain(ref, cand)}"
    state = State.DIFFERS if differing else State.WAIVED if waived else State.IDENTICAL
    return ItemResult(name, state, first, len(ref_cases), differing, waived, tuple(reasons))


def compare_all(
    references: Iterable[Record], candidates: Iterable[Record], waivers: Sequence[Waiver] = ()
) -> list[ItemResult]:
    """Every item either side has, by name."""
    refs = {r.item.name: r for r in references}
    cands = {r.item.name: r for r in candidates}
    return [
        compare(name, refs.get(name), cands.get(name), waivers) for name in sorted(set(refs) | set(cands))
    ]
