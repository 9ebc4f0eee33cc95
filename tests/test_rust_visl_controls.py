"""rust-visl against upstream visl: hostile control payloads case by case.

Every field of the mission codecs' controls at and beyond its limits, wrong sizes and
element counts, menus, batches naming error_idx (conform/probe/hostile.py), on both
drivers in one guest run: errno, error_idx and the payload handed back must agree.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from conform.drivers.rust_visl import build_library

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def both() -> dict[str, list[Any]]:
    from conform.kernel import run_in_guest

    build_library()
    run = run_in_guest(
        [sys.executable, str(Path(__file__).parent / "guest" / "hostile_parity.py")], timeout=900
    )
    assert run.returncode == 0, run.stderr
    assert not run.oops, run.console[-3000:]
    result: dict[str, list[Any]] = json.loads(run.stdout)
    return result


def test_corpus_is_large_and_exercises_rejections(both: dict[str, list[Any]]) -> None:
    outcomes = collections.Counter(str(value) for _, value in both["c-visl"])
    assert len(both["c-visl"]) > 10_000
    assert outcomes["['EINVAL', 0]"] > 100, "the kernel rejects many of these payloads"


def test_every_control_case_identical(both: dict[str, list[Any]]) -> None:
    c_cases, rust_cases = both["c-visl"], both["rust-visl"]
    assert [name for name, _ in c_cases] == [name for name, _ in rust_cases]
    differ = [
        f"{name}\n    c-visl:    {c}\n    rust-visl: {r}"
        for (name, c), (_, r) in zip(c_cases, rust_cases, strict=True)
        if c != r
    ]
    assert not differ, f"{len(differ)} of {len(c_cases)} cases differ:\n" + "\n".join(differ[:20])
