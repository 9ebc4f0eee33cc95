"""rust-visl against upstream visl: hostile control payloads case by case.

Every field of the mission codecs' controls at and beyond its limits, wrong sizes and
element counts, menus, batches naming error_idx (conform/probe/hostile.py), on both
drivers in one guest run: errno, error_idx and the payload handed back must agree.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import pytest

from conform.parity import differences

pytestmark = pytest.mark.kernel


def test_corpus_is_large_and_exercises_rejections(parity: Callable[[str], dict[str, Any]]) -> None:
    reference = parity("hostile")["c-visl"]
    outcomes = collections.Counter(str(value) for _, value in reference)
    assert len(reference) > 10_000
    assert outcomes["['EINVAL', 0]"] > 100, "the kernel rejects many of these payloads"


def test_every_control_case_identical(parity: Callable[[str], dict[str, Any]]) -> None:
    both = parity("hostile")
    differ = differences(both["c-visl"], both["rust-visl"])
    assert not differ, f"{len(differ)} of {len(both['c-visl'])} cases differ:\n" + "\n".join(differ[:20])
