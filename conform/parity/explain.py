"""Where two outcomes first differ, in words a reviewer can act on."""

from __future__ import annotations

from typing import Any


def explain(reference: Any, candidate: Any, path: str = "") -> str:
    """Where two outcomes first differ: the path (job, trace event, field) and both values."""
    if type(reference) is not type(candidate):
        return f"{path or '.'}: reference {_short(reference)}, candidate {_short(candidate)}"
    if isinstance(reference, dict):
        for key in sorted(set(reference) | set(candidate)):
            if key not in reference or key not in candidate:
                return f"{path}.{key}: only in {'reference' if key in reference else 'candidate'}"
            if reference[key] != candidate[key]:
                return explain(reference[key], candidate[key], f"{path}.{key}")
    elif isinstance(reference, list):
        for i, (a, b) in enumerate(zip(reference, candidate, strict=False)):
            if a != b:
                label = f" ({a[0]})" if _is_event(a) and _is_event(b) and a[0] == b[0] else ""
                return explain(a, b, f"{path}[{i}]{label}")
        if len(reference) != len(candidate):
            return f"{path}: {len(reference)} items in reference, {len(candidate)} in candidate"
    elif isinstance(reference, str) and "\n" in reference + candidate:
        ref_lines, cand_lines = reference.split("\n"), candidate.split("\n")
        for i, (a, b) in enumerate(zip(ref_lines, cand_lines, strict=False)):
            if a != b:
                return f"{path} line {i}: reference {a!r}, candidate {b!r}"
        return f"{path}: {len(ref_lines)} lines in reference, {len(cand_lines)} in candidate"
    return f"{path or '.'}: reference {_short(reference)}, candidate {_short(candidate)}"


def _is_event(item: Any) -> bool:
    return isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."
