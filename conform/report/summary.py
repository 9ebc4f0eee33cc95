"""What every report renders: the run, the item results, the verdict."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from conform.parity.compare import ItemResult
from conform.parity.verdict import Verdict
from conform.run.record import Record


@dataclass(frozen=True, slots=True)
class Summary:
    run_id: str
    candidate: str
    reference: str
    """``c-visl`` live, or the committed references and where they came from."""
    command: str
    commit: str
    results: tuple[ItemResult, ...]
    records: tuple[Record, ...]
    verdict: Verdict
    environment: dict[str, Any] = field(default_factory=dict)

    def status_counts(self) -> dict[str, int]:
        return dict(Counter(r.status.value for r in self.records))

    def case_totals(self) -> tuple[int, int, int]:
        """(cases compared, differing, waived) over every item."""
        return (
            sum(r.cases for r in self.results),
            sum(r.differing for r in self.results),
            sum(r.waived for r in self.results),
        )

    def to_json(self) -> str:
        data = {
            "run_id": self.run_id,
            "candidate": self.candidate,
            "reference": self.reference,
            "command": self.command,
            "commit": self.commit,
            "environment": self.environment,
            "verdict": self.verdict.as_json(),
            "items": [
                {
                    "name": r.name,
                    "state": r.state.value,
                    "detail": r.detail,
                    "cases": r.cases,
                    "differing": r.differing,
                    "waived": r.waived,
                    "waiver_reasons": list(r.reasons),
                }
                for r in self.results
            ],
            "records": [
                {"name": r.item.name, "status": r.status.value, "duration_s": r.duration_s, "error": r.error}
                for r in self.records
            ],
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"
