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
- commands: (TRY_)DECODER_CMD with every command and odd flags (conform/probe/commands.py).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import pytest

from conform.parity import differences

pytestmark = pytest.mark.kernel

# The smallest case count each probe must reach, so a probe that silently shrinks fails.
MINIMUM_CASES = {
    "describe": 8,
    "formats": 10_000,
    "hostile": 30_000,
    "buffers": 150,
    "params": 290,
    "commands": 36,
}


@pytest.mark.parametrize("probe", sorted(MINIMUM_CASES))
def test_every_case_identical(parity: Callable[[str], dict[str, Any]], probe: str) -> None:
    both = parity(probe)
    reference = both["c-visl"]
    assert len(reference) >= MINIMUM_CASES[probe]
    differ = differences(reference, both["rust-visl"])
    assert not differ, f"{len(differ)} of {len(reference)} cases differ:\n" + "\n".join(differ[:25])


def test_hostile_corpus_exercises_rejections(parity: Callable[[str], dict[str, Any]]) -> None:
    outcomes = collections.Counter(str(value) for _, value in parity("hostile")["c-visl"])
    assert outcomes["['EINVAL', 0]"] > 100, "the kernel rejects many of these payloads"
    assert outcomes["ok"] > 10_000, "and accepts most"
