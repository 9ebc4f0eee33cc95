"""rust-visl against upstream visl: identity, formats, frame sizes, every control's
QUERY_EXT_CTRL and default payload, media device and topology, as conform's probe
describes them, both drivers in one guest run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conform.parity import differences

pytestmark = pytest.mark.kernel

SECTIONS = [
    "video",
    "media",
    "capability",
    "media_info",
    "queues",
    "controls",
    "control_defaults",
    "topology",
]


def test_description_identical(parity: Callable[[str], dict[str, Any]]) -> None:
    both = parity("describe")
    assert [name for name, _ in both["c-visl"]] == SECTIONS
    assert differences(both["c-visl"], both["rust-visl"]) == []
