"""rust-visl against upstream visl: buffer allocation, QUERYBUF, REMOVE_BUFS and mmap on
both queues (conform/probe/buffers.py), case by case, in one guest run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conform.parity import differences

pytestmark = pytest.mark.kernel


def test_every_buffer_case_identical(parity: Callable[[str], dict[str, Any]]) -> None:
    both = parity("buffers")
    assert len(both["c-visl"]) > 150
    differ = differences(both["c-visl"], both["rust-visl"])
    assert not differ, f"{len(differ)} of {len(both['c-visl'])} cases differ:\n" + "\n".join(differ[:25])
