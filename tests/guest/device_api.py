"""Runs inside the kernel tier's guest: every device-layer call once, on upstream visl.

Prints one JSON object of observations; tests/test_device_api.py judges them.  Kept to a
single process because each guest Python start costs seconds under TCG.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from typing import Any

from conform.device import (
    Controls,
    ControlsError,
    ControlValue,
    MediaDevice,
    PixFormatMplane,
    Queue,
    VideoDevice,
)
from conform.device.queue import DeviceTimeout, QueueError
from conform.drivers import resolve_driver
from conform.probe.smoke import SmokeStream
from conform.transport import O_NONBLOCK, O_RDWR, TransportError
from conform.uapi import C, ffi

OUT, CAP = C.V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, C.V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE


def outcome(call: Callable[[], Any]) -> Any:
    """The call's result, or the errno name it failed with."""
    try:
        result = call()
    except ControlsError as exc:
        return {"errno": errno.errorcode[exc.errno or 0], "error_idx": exc.error_idx}
    except TransportError as exc:
        return {"errno": errno.errorcode[exc.errno or 0]}
    except DeviceTimeout:
        return "timeout"
    except QueueError:
        return "queue error"
    return "ok" if result is None else result


def main() -> None:
    nodes = resolve_driver("c-visl").connect()
    seen: dict[str, Any] = {}
    video = VideoDevice(nodes.transport, nodes.video)
    media = MediaDevice(nodes.transport, nodes.media or "")
    stream = SmokeStream(320, 240, 2)
    video.s_fmt(
        OUT, PixFormatMplane(320, 240, C.V4L2_PIX_FMT_H264_SLICE, colorspace=C.V4L2_COLORSPACE_REC709)
    )
    out, cap = Queue(video, OUT), Queue(video, CAP)

    created = out.create_bufs(2)
    seen["create_bufs"] = {"index": created.index, "count": created.count, "caps": created.capabilities,
                           "max_num_buffers": created.max_num_buffers}  # fmt: skip
    seen["querybuf_length"] = out.buffers[1].planes[0].length
    seen["sizeimage"] = video.g_fmt(OUT).planes[0].sizeimage
    dmabuf = out.expbuf(0)
    seen["expbuf_fd_valid"] = os.fstat(dmabuf).st_size >= 0
    os.close(dmabuf)
    seen["remove_bufs"] = outcome(lambda: out.remove_bufs(1, 1))
    seen["querybuf_removed"] = outcome(lambda: out.querybuf(1))
    seen["try_decoder_cmd_flush"] = outcome(lambda: video.decoder_cmd(C.V4L2_DEC_CMD_FLUSH, try_only=True))
    seen["decoder_cmd_stop"] = outcome(lambda: video.decoder_cmd(C.V4L2_DEC_CMD_STOP))

    controls = Controls(video)
    # The control core rejects an MPEG-2 sequence whose chroma_format is not 1, 2 or 3.
    bad = ffi.new("struct v4l2_ctrl_mpeg2_sequence *")
    bad.horizontal_size, bad.vertical_size, bad.chroma_format = 320, 240, 0
    bad_seq = ControlValue.of(C.V4L2_CID_STATELESS_MPEG2_SEQUENCE, bad)
    mode = ControlValue(C.V4L2_CID_STATELESS_H264_DECODE_MODE, 1)
    seen["try_bad_sequence"] = outcome(lambda: controls.try_([mode, bad_seq]))
    seen["set_bad_sequence"] = outcome(lambda: controls.set([mode, bad_seq]))
    seen["set_bad_menu"] = outcome(
        lambda: controls.set([ControlValue(C.V4L2_CID_STATELESS_H264_DECODE_MODE, 7)])
    )
    seen["get_mode_after_failures"] = controls.get([C.V4L2_CID_STATELESS_H264_DECODE_MODE])[0].value

    with media.request_alloc() as empty:
        seen["queue_empty_request"] = outcome(empty.queue)

    out.streamon()
    cap.reqbufs(2)
    cap.streamon()
    seen["dqbuf_idle_capture"] = outcome(lambda: cap.dqbuf(timeout=0.2))
    nonblocking = VideoDevice(nodes.transport, nodes.video, O_RDWR | O_NONBLOCK)
    seen["dqbuf_nonblock_unused_handle"] = outcome(lambda: Queue(nonblocking, CAP).dqbuf(timeout=0))
    nonblocking.close()

    for index in cap.buffers:
        cap.qbuf(index)
    first = next(stream.requests())
    with media.request_alloc() as request:
        controls.set(first.controls, request_fd=request.fd)
        out.qbuf(0, payload=first.payload, timestamp_ns=first.timestamp_ns, request_fd=request.fd)
        request.queue()
        seen["request_wait"] = outcome(lambda: request.wait(5))
        seen["request_queue_twice"] = outcome(request.queue)
        done = cap.dqbuf(5)
        seen["dequeued"] = {
            "sequence": done.sequence,
            "timestamp": done.timestamp_ns,
            "bytesused": done.bytesused,
        }
        seen["output_dequeued_request_fd"] = out.dqbuf(5).request_fd == request.fd
        carried = Controls(video).get([C.V4L2_CID_STATELESS_H264_SPS], request_fd=request.fd)[0].value
        seen["request_sps_read_back"] = carried == first.controls[0].value
        seen["request_reinit"] = outcome(request.reinit)
    for queue in (out, cap):
        queue.streamoff()
        queue.reqbufs(0)
    media.close()
    video.close()
    print(json.dumps(seen, sort_keys=True))


if __name__ == "__main__":
    main()
