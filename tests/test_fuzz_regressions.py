"""The vdev fuzzer's inputs replayed through conform: rust-visl/fuzz/regressions/* (inputs
that once crashed) and rust-visl/fuzz/corpus-sample/* (a slice of the fuzzed corpus).

On rust-visl every program must end without a caught panic (-EIO, vdev's guard) and leave
nothing open (vdev_reset succeeds).  In the kernel tier the same programs run on upstream
visl and rust-visl in one guest; the guest kernel must not oops, and how many calls agree
between the two drivers is reported, not asserted.
"""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path

import pytest

from conform.probe.replay import FUZZ_DIR, Call, Vocabulary, agreement, errno_name, replay
from conform.transport import EmbeddedTransport
from conform.uapi import IOCTLS, C

REPO = Path(__file__).parents[1]


def programs() -> list[Path]:
    found: list[Path] = []
    for folder in ("regressions", "corpus-sample"):
        found += sorted(p for p in (FUZZ_DIR / folder).glob("*") if p.is_file() and p.suffix != ".md")
    return found


def test_vocabulary_matches_uapi() -> None:
    """vocabulary.txt's numbers are the 6.12 UAPI's; the harness and replayer share them."""
    vocabulary = Vocabulary.load()
    assert vocabulary.paths and vocabulary.ioctls and vocabulary.ctrls
    for entry in vocabulary.ioctls:
        assert IOCTLS[entry.name] == entry.number, entry.name
    for ctrl in vocabulary.ctrls:
        assert getattr(C, ctrl.name) == ctrl.id, ctrl.name
    assert not any(p.endswith("visl_transtime_ms") for p in vocabulary.paths)


def test_there_are_programs() -> None:
    assert programs(), f"no fuzz programs under {FUZZ_DIR}"


@pytest.fixture(scope="module")
def embedded() -> EmbeddedTransport:
    from conform.drivers.rust_visl import build_library

    return EmbeddedTransport(build_library())


@pytest.mark.parametrize("program", programs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_replay_on_rust_visl(embedded: EmbeddedTransport, program: Path) -> None:
    calls = replay(embedded, program.read_bytes())
    embedded.reset()  # EBUSY here: the program left a file or mapping behind
    panics = [c for c in calls if c.result == -errno.EIO]
    assert not panics, f"{program.name}: {panics[0].what} answered EIO (a caught panic)"


@pytest.mark.kernel
def test_replay_on_c_visl_without_oops() -> None:
    from conform.drivers.rust_visl import build_library
    from conform.kernel import run_in_guest

    build_library()
    files = programs()
    run = run_in_guest(
        [sys.executable, "-m", "conform.probe.replay", "c-visl,rust-visl", *map(str, files)],
        timeout=1800,
        env={"PYTHONPATH": str(REPO)},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert not run.oops, run.console[-3000:]
    out = json.loads(run.stdout)
    same = total = identical = 0
    first_difference = ""
    for name, c_calls in out["c-visl"].items():
        a = [Call(what, result) for what, result in c_calls]
        b = [Call(what, result) for what, result in out["rust-visl"][name]]
        s, t = agreement(a, b)
        same, total, identical = same + s, total + t, identical + (s == t)
        if s != t and not first_difference:
            i = next(i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y) if a and b else 0
            x, y = (a[i] if i < len(a) else None), (b[i] if i < len(b) else None)
            first_difference = (
                f"{name} call {i}: c-visl {x and (x.what, errno_name(x.result))}, "
                f"rust-visl {y and (y.what, errno_name(y.result))}"
            )
    print(
        f"fuzz replay on c-visl: no oops over {len(files)} programs; {same}/{total} calls and "
        f"{identical}/{len(files)} programs agree with rust-visl"
        + (f"; first difference: {first_difference}" if first_difference else "")
    )
