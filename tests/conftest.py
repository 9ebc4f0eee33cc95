"""Shared fixtures: running a probe on both drivers in one kernel-tier guest."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GUEST_SCRIPTS = Path(__file__).parent / "guest"
REPO = Path(__file__).parents[1]


def run_guest_script(script: str, *args: str, timeout: float = 900) -> Any:
    """Run tests/guest/SCRIPT in the guest with this checkout first on the path; parse its JSON."""
    from conform.kernel import run_in_guest

    run = run_in_guest(
        [sys.executable, str(GUEST_SCRIPTS / script), *args], timeout=timeout, env={"PYTHONPATH": str(REPO)}
    )
    assert run.returncode == 0, run.stderr
    assert not run.oops, run.console[-3000:]
    return json.loads(run.stdout)


@pytest.fixture(scope="session")
def guest_json() -> Callable[..., Any]:
    """``guest_json(script, *args)``: run tests/guest/SCRIPT in the guest, return its JSON."""
    return run_guest_script


@pytest.fixture(scope="module")
def parity() -> Callable[[str], dict[str, Any]]:
    """``parity(probe)``: that probe's cases from c-visl and rust-visl, from one guest run."""
    from conform.drivers.rust_visl import build_library

    build_library()
    results: dict[str, dict[str, Any]] = {}

    def run(probe: str) -> dict[str, Any]:
        if probe not in results:
            results[probe] = run_guest_script("parity.py", probe)
        return results[probe]

    return run
