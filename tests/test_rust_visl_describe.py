"""rust-visl against upstream visl: identity, formats, frame sizes, every control's
QUERY_EXT_CTRL and default payload, media device and topology, as conform's probe
describes them, both drivers in one guest run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from conform.drivers.rust_visl import build_library

pytestmark = pytest.mark.kernel

COMPARED = (
    "video",
    "media",
    "capability",
    "media_info",
    "queues",
    "controls",
    "control_defaults",
    "topology",
)


@pytest.fixture(scope="module")
def both() -> dict[str, dict[str, Any]]:
    from conform.kernel import run_in_guest

    build_library()
    run = run_in_guest(
        [sys.executable, str(Path(__file__).parent / "guest" / "describe_parity.py")], timeout=600
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, dict[str, Any]] = json.loads(run.stdout)
    return result


@pytest.mark.parametrize("section", COMPARED)
def test_section_identical(both: dict[str, dict[str, Any]], section: str) -> None:
    assert both["rust-visl"][section] == both["c-visl"][section]


def test_every_description_field_is_compared(both: dict[str, dict[str, Any]]) -> None:
    assert set(both["c-visl"]) == set(COMPARED)
