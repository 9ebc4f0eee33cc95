"""Case lists: (name, outcome) pairs in a fixed order, as the probes produce them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Case = tuple[str, Any]


def differences(reference: Sequence[Case], candidate: Sequence[Case]) -> list[str]:
    """One readable entry per case whose outcome differs; the case lists must name the same cases.

    ``reference`` is upstream's side (c-visl), ``candidate`` the driver under judgement.
    """
    ref_names = [name for name, _ in reference]
    cand_names = [name for name, _ in candidate]
    if ref_names != cand_names:
        missing = sorted(set(ref_names) - set(cand_names))[:5]
        extra = sorted(set(cand_names) - set(ref_names))[:5]
        return [f"case lists differ: missing {missing}, extra {extra}"]
    return [
        f"{name}\n    reference: {ref}\n    candidate: {cand}"
        for (name, ref), (_, cand) in zip(reference, candidate, strict=True)
        if ref != cand
    ]
