"""Shared fixtures: running a probe on both drivers in one kernel-tier guest."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

GUEST_SCRIPTS = Path(__file__).parent / "guest"
REPO = Path(__file__).parents[1]


def run_guest_script(
    script: str, *args: str, timeout: float = 900, params: Mapping[str, str] | None = None
) -> Any:
    """Run tests/guest/SCRIPT in the guest with this checkout first on the path; parse its JSON.

    ``params`` are visl's module parameters for that boot (the kernel command line).
    """
    from conform.kernel import run_in_guest

    run = run_in_guest(
        [sys.executable, str(GUEST_SCRIPTS / script), *args],
        timeout=timeout,
        env={"PYTHONPATH": str(REPO)},
        params=params,
    )
    assert run.returncode == 0, run.stderr
    assert not run.oops, run.console[-3000:]
    return json.loads(run.stdout)


@pytest.fixture(scope="session")
def guest_json() -> Callable[..., Any]:
    """``guest_json(script, *args)``: run tests/guest/SCRIPT in the guest, return its JSON."""
    return run_guest_script


@pytest.fixture(scope="module")
def parity() -> Callable[..., dict[str, Any]]:
    """``parity(probe, param_set="default")``: that probe's cases from c-visl and rust-visl,
    from one guest run booted with the module parameters of ``param_set``
    (conform.probe.decode.PARAM_SETS); both drivers get the same parameters."""
    from conform.drivers.rust_visl import build_library
    from conform.probe.decode import PARAM_SETS

    build_library()
    results: dict[tuple[str, str], dict[str, Any]] = {}

    def run(probe: str, param_set: str = "default") -> dict[str, Any]:
        key = (probe, param_set)
        if key not in results:
            results[key] = run_guest_script("parity.py", probe, params=PARAM_SETS[param_set])
        return results[key]

    return run
