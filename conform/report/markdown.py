"""The run as Markdown (a table per item, blockers listed)."""

from __future__ import annotations

from tabulate import tabulate

from conform.report.summary import Summary


def render(summary: Summary) -> str:
    v = summary.verdict
    cases, differing, waived = summary.case_totals()
    out = [
        f"# conform: {summary.candidate} against {summary.reference}",
        "",
        f"**Verdict: {v.word}** — {len(summary.results)} items, {cases} cases compared, "
        f"{differing} differing, {waived} waived.",
        "",
        f"Run `{summary.run_id}`, conform `{summary.commit}`, command `{summary.command}`.",
        "",
    ]
    rows = [[f"`{r.name}`", r.state.value, r.cases, r.differing, r.detail[:120]] for r in summary.results]
    out.append(
        tabulate(rows, headers=["item", "result", "cases", "differ", "first divergence"], tablefmt="github")
    )
    if v.blockers:
        out += ["", "## Blockers", ""] + [f"- {b}" for b in v.blockers]
    return "\n".join(out) + "\n"
