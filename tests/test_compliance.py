"""v4l2-compliance 1.22 (bookworm) and 1.30 (trixie) on rust-visl and on upstream visl.

rust-visl runs on the host behind the device-node shim (conform/shim); c-visl runs in one
kernel-tier guest, which sees the host's cache read-only, so trixie's unpacked tree is the
same binary on both sides.  For each version and option set (conform.probe.compliance.
OPTION_SETS: ``-d /dev/video0``, ``-m /dev/media0``, ``-s -d /dev/video0``) every check line
and every total must be identical.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from conform.probe import compliance

pytestmark = pytest.mark.kernel

# Checks allowed to differ, each with the reason it is environmental rather than a driver
# difference.  Keys are Difference.key values.  Empty: nothing has needed one.
WAIVERS: dict[str, str] = {}

RUNS = [(version, name) for version in compliance.VERSIONS for name in compliance.OPTION_SETS]


@pytest.fixture(scope="module")
def reports() -> dict[tuple[str, str, str], Any]:
    from conform import shim
    from conform.drivers.rust_visl import build_library
    from conform.kernel import run_in_guest

    library = build_library()
    argv = {f"{v} {n}": compliance.command(v, *compliance.OPTION_SETS[n]) for v, n in RUNS}
    out: dict[tuple[str, str, str], Any] = {}
    for (version, name), cmd in zip(RUNS, argv.values(), strict=True):
        done = shim.run(cmd, library=library, capture=True, timeout=600)
        out[("rust-visl", version, name)] = done.stdout
    run = run_in_guest(["/bin/sh", "-c", compliance.guest_script(argv)], timeout=1200)
    assert run.returncode == 0, run.stderr
    assert not run.oops, run.console[-3000:]
    for key, text in compliance.split_marked(run.stdout).items():
        version, name = key.split(" ", 1)
        out[("c-visl", version, name)] = text
    return out


@pytest.mark.parametrize(("version", "option_set"), RUNS, ids=[f"{v}-{n}" for v, n in RUNS])
def test_same_checks_and_totals(
    reports: dict[tuple[str, str, str], Any], version: str, option_set: str
) -> None:
    c_text = reports[("c-visl", version, option_set)]
    rust_text = reports[("rust-visl", version, option_set)]
    c_report = compliance.parse(c_text)
    try:
        rust_report = compliance.parse(rust_text)
    except compliance.ComplianceError:
        pytest.fail(f"v4l2-compliance {version} {option_set} on rust-visl printed no totals "
                    f"(it crashed?):\n{rust_text[-3000:]}")  # fmt: skip
    diffs = [d for d in compliance.differences(c_report, rust_report) if d.key not in WAIVERS]
    lines = [f"{d.key}\n    c-visl:    {d.left}\n    rust-visl: {d.right}" for d in diffs]
    print("\n".join(t.line for t in c_report.totals), file=sys.stderr)
    command = " ".join(compliance.OPTION_SETS[option_set])
    assert not diffs, f"v4l2-compliance {version} {command}:\n" + "\n".join(lines)
