"""rust-visl against upstream visl, case by case, each probe in one kernel-tier guest run.

The same Python process drives c-visl through the guest kernel's nodes and rust-visl
through the embedded library (tests/guest/parity.py); every case must come out the same:

- describe: QUERYCAP, formats and frame sizes, every control's QUERY_EXT_CTRL and default
  payload, media device and topology (conform/probe/describe.py);
- formats: TRY/S/G_FMT over fourccs, sizes and colorimetry (conform/probe/formats.py);
- hostile: every field of the mission codecs' controls at and beyond its limits, sizes,
  element counts, menus, batches naming error_idx (conform/probe/hostile.py);
- buffers: REQBUFS, CREATE_BUFS, QUERYBUF, REMOVE_BUFS, mmap (conform/probe/buffers.py);
- params: the module parameters in sysfs, read, written and read back (conform/probe/params.py);
- commands: (TRY_)DECODER_CMD with every command and odd flags (conform/probe/commands.py);
- decode: decode loops of all seven coded formats over sizes, both decoded formats,
  colorimetries, omitted controls, HOLD_CAPTURE_BUF slices: CAPTURE frames, OUTPUT
  dqbufs, trace events per job, debugfs bitstream dumps (conform/probe/decode.py);
- decode-dumps: a smaller decode matrix under other module parameters (bitstream dumps
  kept, job sleeps, debug prints), named ``probe@param_set``;
- streaming: QBUF/PREPARE_BUF/DQBUF checks, STREAMON/OFF order, the request state machine,
  HOLD_CAPTURE_BUF, per-request control values, control events (conform/probe/streaming.py).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import pytest

from conform.parity import differences
from conform.parity.explain import explain

pytestmark = pytest.mark.kernel

# The smallest case count each probe must reach, so a probe that silently shrinks fails.
MINIMUM_CASES = {
    "describe": 8,
    "formats": 10_000,
    "hostile": 30_000,
    "buffers": 150,
    "params": 290,
    "commands": 36,
    "decode": 130,
    "decode-dumps@dump": 19,
    "decode-dumps@slow": 19,
    "streaming": 240,
}
# Outcomes too big to print whole: a failure names where in the case they first differ.
EXPLAINED = ("decode", "decode-dumps")


@pytest.mark.parametrize("probe", sorted(MINIMUM_CASES))
def test_every_case_identical(parity: Callable[..., dict[str, Any]], probe: str) -> None:
    name, _, param_set = probe.partition("@")
    both = parity(name, param_set or "default")
    reference, candidate = both["c-visl"], both["rust-visl"]
    assert len(reference) >= MINIMUM_CASES[probe]
    differ = differences(reference, candidate)
    if differ and name in EXPLAINED and len(reference) == len(candidate):
        differ = [
            f"{case}: {explain(ref, cand)}"
            for (case, ref), (_, cand) in zip(reference, candidate, strict=True)
            if ref != cand
        ]
    assert not differ, f"{len(differ)} of {len(reference)} cases differ:\n" + "\n".join(differ[:25])


def test_hostile_corpus_exercises_rejections(parity: Callable[..., dict[str, Any]]) -> None:
    outcomes = collections.Counter(str(value) for _, value in parity("hostile")["c-visl"])
    assert outcomes["['EINVAL', 0]"] > 100, "the kernel rejects many of these payloads"
    assert outcomes["ok"] > 10_000, "and accepts most"


@pytest.mark.parametrize("probe", ["decode", "decode-dumps@dump"])
def test_decode_reference_exercises_the_job_path(parity: Callable[..., dict[str, Any]], probe: str) -> None:
    """c-visl's side of the decode probe is what the probe means it to be."""
    name, _, param_set = probe.partition("@")
    reference = dict(parity(name, param_set or "default")["c-visl"])
    assert all(reference["trace enable"].values()), reference["trace enable"]
    decodes = {case: out for case, out in reference.items() if "jobs" in out}
    failed = {case: out["error"] for case, out in decodes.items() if "error" in out}
    assert not failed, failed
    jobs = [job for out in decodes.values() for job in out["jobs"]]
    assert all(job["trace"] for job in jobs), "every job emits its codec's trace events"
    held = [job for job in jobs if job["capture"] is None]
    assert held, "HOLD_CAPTURE_BUF jobs return no CAPTURE buffer"
    dumped = [d for out in decodes.values() for d in out["dumps_streaming"] if isinstance(d, list)]
    assert bool(dumped) == (param_set == "dump"), "bitstream dumps exist only when asked for"
