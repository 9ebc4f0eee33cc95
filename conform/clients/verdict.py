"""One line per stream of the GStreamer comparison, v4l2-compliance style, and the totals.

A stream passes when GStreamer's frames (or its failure) are the same on both drivers and,
with the controls compared, every difference between GStreamer's controls and conform's
is a reviewed one (conform/clients/known.py) or GStreamer's failure a known limitation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conform.clients import controls, known
from conform.clients.gstreamer import GstResult, GstStream


@dataclass(slots=True)
class Totals:
    streams: int = 0
    passed: int = 0
    frames: int = 0
    jobs: int = 0
    reviewed: int = 0
    unexplained: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Judged:
    """One stream's line and its record (what ``conform gstreamer`` keeps as JSON)."""

    line: str
    record: dict[str, Any]


def _side(result: GstResult) -> dict[str, Any]:
    return {"outcome": result.outcome, "frames": result.frames, "log": result.log[-2000:]}


def judge(stream: GstStream, rust: GstResult | None, c: GstResult, totals: Totals) -> Judged:
    """The stream's line and record; ``rust`` None compares only the controls on c-visl."""
    totals.streams += 1
    problems: list[str] = []
    parts: list[str] = []
    record: dict[str, Any] = {"stream": stream.name, "codec": stream.codec.value, "c-visl": _side(c)}
    if rust is not None:
        record["rust-visl"] = _side(rust)
        if (rust.outcome, rust.frames) == (c.outcome, c.frames):
            same = f"{len(c.frames)} frames equal" if c.outcome == "decoded" else f"{c.outcome} on both"
            parts.append(same)
            totals.frames += len(c.frames)
        else:
            problems.append(f"rust-visl {rust.outcome} {len(rust.frames)} frames, "
                            f"c-visl {c.outcome} {len(c.frames)} frames")  # fmt: skip
    if c.conform or c.conform_error:
        record["controls"] = {}
        problems += _controls(stream, c, parts, totals, record["controls"])
    ok = not problems
    totals.passed += ok
    record["ok"] = ok
    return Judged(f"\t{stream.name}: {', '.join(parts + problems)}: {'OK' if ok else 'FAIL'}", record)


@dataclass(slots=True)
class Review:
    """GStreamer's controls held against conform's for one stream decoded on c-visl.

    ``limitation`` is set (and nothing compared) when GStreamer did not decode the stream
    and a known limitation says why; ``unexplained`` are the differences no rule covers.
    """

    ours: list[controls.Job]
    gst: list[controls.Job] = field(default_factory=list)
    limitation: known.Limitation | None = None
    explained: list[known.Known] = field(default_factory=list)
    unexplained: list[controls.Difference] = field(default_factory=list)


def review(stream: GstStream, c: GstResult) -> Review:
    """Compare the controls of ``c`` (a guest decode with ``controls``); see Review."""
    result = Review(controls.conform_jobs(c.conform))
    if c.outcome != "decoded":
        result.limitation = known.limitation(stream.codec, c.outcome, result.ours)
        return result
    result.gst = controls.gstreamer_jobs(c.trace, stream.codec)
    for diff in controls.compare(stream.name, result.gst, result.ours):
        rule = known.explain(stream.codec, diff, result.gst, result.ours)
        if rule is None:
            result.unexplained.append(diff)
        else:
            result.explained.append(rule)
    return result


def _controls(stream: GstStream, c: GstResult, parts: list[str], totals: Totals,
              record: dict[str, Any]) -> list[str]:  # fmt: skip
    if c.conform_error:
        record["error"] = c.conform_error
        return [f"conform's request stream failed: {c.conform_error}"]
    checked = review(stream, c)
    if c.outcome != "decoded":
        if checked.limitation is None:
            return [f"GStreamer {c.outcome}, not a known limitation"]
        record["limitation"] = checked.limitation.reason
        parts.append("a known GStreamer limitation")
        return []
    for rule in checked.explained:
        key = f"{rule.event} {rule.fields[0] if rule.fields else '*'}"
        totals.by_rule[key] = totals.by_rule.get(key, 0) + 1
    unexplained, reviewed = len(checked.unexplained), len(checked.explained)
    record["unexplained"] = [d.line() for d in checked.unexplained]
    totals.jobs += len(checked.ours)
    totals.reviewed += reviewed
    totals.unexplained += unexplained
    record.update(jobs=len(checked.ours), differences=reviewed + unexplained, reviewed=reviewed)
    parts.append(f"controls of {len(checked.ours)} jobs, {reviewed} reviewed differences")
    return [f"{unexplained} unexplained differences"] if unexplained else []


def summary(totals: Totals) -> str:
    lines = [f"Total: {totals.streams} streams, Succeeded: {totals.passed}, "
             f"Failed: {totals.streams - totals.passed}",
             f"frames equal on both drivers: {totals.frames}; jobs whose controls were compared: "
             f"{totals.jobs}; reviewed differences: {totals.reviewed}; "
             f"unexplained: {totals.unexplained}"]  # fmt: skip
    lines += [f"\t{count:7d}  {rule}" for rule, count in sorted(totals.by_rule.items())]
    return "\n".join(lines)
