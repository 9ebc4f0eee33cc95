"""Plain text that reads well in a mail client: 72 columns, no colour, pasteable into a
linux-media reply."""

from __future__ import annotations

import textwrap

from tabulate import tabulate

from conform.report.summary import Summary

WIDTH = 72


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=" " * (len(indent) + 2)) or [
        indent
    ]


def render(summary: Summary) -> str:
    v = summary.verdict
    cases, differing, waived = summary.case_totals()
    lines = [
        f"conform: {summary.candidate} against {summary.reference}",
        f"verdict: {v.word}",
        "",
        *_wrap(f"run {summary.run_id}, conform {summary.commit}"),
        *_wrap(f"command: {summary.command}"),
    ]
    kernel = summary.environment.get("kernel")
    if kernel:
        lines += _wrap(f"reference kernel: {kernel}")
    lines += [
        "",
        f"items: {len(summary.results)}, cases compared: {cases}, differing: {differing}, waived: {waived}",
        "",
    ]
    rows = []
    for r in summary.results:
        name = r.name if len(r.name) <= 44 else r.name[:41] + "..."
        rows.append([name, r.state.value, r.cases, r.differing])
    table = tabulate(rows, headers=["item", "result", "cases", "differ"], tablefmt="simple")
    if not summary.results:
        status_rows = [[r.item.name[:50], r.status.value, f"{r.duration_s:.1f}"] for r in summary.records]
        table = tabulate(status_rows, headers=["item", "status", "seconds"], tablefmt="simple")
    lines += table.splitlines()
    if v.blockers:
        lines += ["", "Blockers (first divergence of each):"]
        for blocker in v.blockers:
            lines += _wrap(blocker, "  - ")
    reasons = sorted({reason for r in summary.results for reason in r.reasons})
    if reasons:
        lines += ["", "Waivers applied (upstream findings and reviewed exceptions):"]
        for reason in reasons:
            lines += _wrap(reason, "  - ")
    statuses = ", ".join(f"{k} {n}" for k, n in sorted(summary.status_counts().items()))
    lines += ["", f"Total for {summary.candidate}: {len(summary.results)} items, {statuses}"]
    return "\n".join(line[:WIDTH] if len(line) > WIDTH else line for line in lines) + "\n"
