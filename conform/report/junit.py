"""JUnit XML: one testcase per item, a failure for each item that is not identical."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conform.parity.compare import State
from conform.report.summary import Summary


def render(summary: Summary) -> str:
    durations = {r.item.name: r.duration_s for r in summary.records}
    failing = [r for r in summary.results if r.state not in (State.IDENTICAL, State.WAIVED)]
    suite = ET.Element(
        "testsuite",
        name=f"conform {summary.candidate}",
        tests=str(len(summary.results)),
        failures=str(len(failing)),
        errors="0",
    )
    for r in summary.results:
        kind, _, rest = r.name.partition("/")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"conform.{kind}",
            name=rest or r.name,
            time=f"{durations.get(r.name, 0.0):.3f}",
        )
        if r in failing:
            failure = ET.SubElement(case, "failure", message=f"{r.state.value}: {r.detail[:200]}")
            failure.text = r.detail
        elif r.state is State.WAIVED:
            ET.SubElement(case, "system-out").text = "waived: " + "; ".join(r.reasons)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
