"""rust-visl against upstream visl: format negotiation, case by case, in one guest run.

Both drivers answer the same matrix (conform/probe/formats.py) from one Python process
in the kernel tier's guest: c-visl through the guest kernel's nodes, rust-visl through
the embedded library.  Every case must come out the same.
"""

from __future__ import annotations

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
    script = Path(__file__).parent / "guest" / "format_parity.py"
    run = run_in_guest([sys.executable, str(script)], timeout=600)
    assert run.returncode == 0, run.stderr
    assert not run.oops, run.console[-3000:]
    result: dict[str, list[Any]] = json.loads(run.stdout)
    return result


def test_matrix_is_large(both: dict[str, list[Any]]) -> None:
    assert len(both["c-visl"]) > 5000


def test_every_format_case_identical(both: dict[str, list[Any]]) -> None:
    c_cases, rust_cases = both["c-visl"], both["rust-visl"]
    assert [name for name, _ in c_cases] == [name for name, _ in rust_cases]
    differ = [
        f"{name}\n    c-visl:    {c}\n    rust-visl: {r}"
        for (name, c), (_, r) in zip(c_cases, rust_cases, strict=True)
        if c != r
    ]
    assert not differ, f"{len(differ)} of {len(c_cases)} cases differ:\n" + "\n".join(differ[:15])
