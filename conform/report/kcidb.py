"""KernelCI's results format (KCIDB I/O schema v4): one test per item under one build."""

from __future__ import annotations

import json

from conform.parity.compare import State
from conform.report.summary import Summary

ORIGIN = "conform"
STATUS = {
    State.IDENTICAL: "PASS",
    State.WAIVED: "PASS",
    State.DIFFERS: "FAIL",
    State.MISSING: "ERROR",
    State.FAILED: "ERROR",
}


def render(summary: Summary) -> str:
    checkout = f"{ORIGIN}:{summary.run_id}"
    build = f"{checkout}:{summary.candidate}"
    data = {
        "version": {"major": 4, "minor": 3},
        "checkouts": [{"id": checkout, "origin": ORIGIN, "git_commit_hash": summary.commit, "valid": True}],
        "builds": [
            {
                "id": build,
                "checkout_id": checkout,
                "origin": ORIGIN,
                "architecture": "x86_64",
                "comment": f"{summary.candidate} against {summary.reference}",
                "valid": True,
            }
        ],
        "tests": [
            {
                "id": f"{build}:{r.name}",
                "build_id": build,
                "origin": ORIGIN,
                "path": "conform." + r.name.replace("/", ".").replace("@", "-"),
                "status": STATUS[r.state],
                "comment": r.detail[:500] or r.state.value,
                "misc": {"cases": r.cases, "differing": r.differing, "waived": r.waived},
            }
            for r in summary.results
        ],
    }
    return json.dumps(data, indent=1) + "\n"
