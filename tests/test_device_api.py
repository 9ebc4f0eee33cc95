"""The device layer against upstream visl: each call once, outcomes checked against the
V4L2 documentation and visl-behaviour §6 (tests/guest/device_api.py runs in the guest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conform.uapi import C

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def seen(guest_json: Callable[..., Any]) -> dict[str, Any]:
    result: dict[str, Any] = guest_json("device_api.py", timeout=300)
    return result


def test_buffer_allocation_and_capabilities(seen: dict[str, Any]) -> None:
    created = seen["create_bufs"]
    assert (created["index"], created["count"]) == (0, 2)
    caps = created["caps"]
    for bit in ("MMAP", "DMABUF", "REQUESTS", "M2M_HOLD_CAPTURE_BUF", "REMOVE_BUFS"):
        assert caps & getattr(C, f"V4L2_BUF_CAP_SUPPORTS_{bit}"), bit
    assert not caps & C.V4L2_BUF_CAP_SUPPORTS_USERPTR
    assert seen["querybuf_length"] == seen["sizeimage"]
    assert seen["expbuf_fd_valid"] is True
    assert seen["remove_bufs"] == "ok" and seen["querybuf_removed"] == {"errno": "EINVAL"}


def test_decoder_commands(seen: dict[str, Any]) -> None:
    assert seen["try_decoder_cmd_flush"] == 0
    assert seen["decoder_cmd_stop"] == {"errno": "EINVAL"}


def test_control_errors_carry_error_idx(seen: dict[str, Any]) -> None:
    # A compound payload failing the control core's validation is named by its index in
    # both TRY and S on 6.12 (the documented error_idx == count applies to errors found
    # before values are examined); the layer must hand that index back unchanged.
    assert seen["try_bad_sequence"] == {"errno": "EINVAL", "error_idx": 1}
    assert seen["set_bad_sequence"] == {"errno": "EINVAL", "error_idx": 1}
    assert seen["set_bad_menu"] == {"errno": "ERANGE", "error_idx": 1}
    # error_idx < count means the controls before it were applied (documented for S_EXT_CTRLS):
    # the decode mode set ahead of the bad sequence stuck.
    assert seen["get_mode_after_failures"] == 1


def test_request_state_machine(seen: dict[str, Any]) -> None:
    assert seen["queue_empty_request"] == {"errno": "ENOENT"}
    assert seen["request_wait"] == "ok"
    assert seen["request_queue_twice"] == {"errno": "EBUSY"}
    assert seen["output_dequeued_request_fd"] is True
    assert seen["request_sps_read_back"] is True
    assert seen["request_reinit"] == "ok"


def test_dequeue_never_blocks(seen: dict[str, Any]) -> None:
    assert seen["dqbuf_idle_capture"] == "queue error"
    assert seen["dqbuf_nonblock_unused_handle"] == "queue error"
    assert seen["dequeued"] == {"sequence": 0, "timestamp": 4294900000, "bytesused": [320 * 240 * 3 // 2]}
