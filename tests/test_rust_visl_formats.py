"""rust-visl against upstream visl: format negotiation, case by case, in one guest run.

Both drivers answer the same matrix (conform/probe/formats.py) from one Python process
in the kernel tier's guest: c-visl through the guest kernel's nodes, rust-visl through
the embedded library.  Every case must come out the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conform.parity import differences

pytestmark = pytest.mark.kernel


def test_every_format_case_identical(parity: Callable[[str], dict[str, Any]]) -> None:
    both = parity("formats")
    assert len(both["c-visl"]) > 10_000
    differ = differences(both["c-visl"], both["rust-visl"])
    assert not differ, f"{len(differ)} of {len(both['c-visl'])} cases differ:\n" + "\n".join(differ[:15])
