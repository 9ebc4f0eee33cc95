"""A vector as a run item: its request stream decoded in one session, and what came back.

The evidence of a vector item is what parity and fluster compare: per job the OUTPUT
dqbuf, the trace events the job emitted and the CAPTURE buffer it returned (md5 of the
payload, sequence, timestamp, flags, bytesused), and the whole-stream md5 of the CAPTURE
payloads in decode order, fluster's convention for a decoder's output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conform.codecs.stream import DecodeRequest, StreamFormat
from conform.device import DequeuedBuffer
from conform.device.trace import TracePipe, enable_systems
from conform.drivers import Nodes
from conform.errors import ConformError, NotSupportedError
from conform.report.pictures import save_frame
from conform.run.items import Item, Kind
from conform.run.record import Status
from conform.run.session import DecodeSession, SessionConfig
from conform.transport import TransportError


def _buffer(buf: DequeuedBuffer) -> dict[str, Any]:
    return {
        "index": buf.index,
        "sequence": buf.sequence,
        "timestamp": buf.timestamp_ns,
        "flags": buf.flags,
        "field": buf.field,
        "bytesused": list(buf.bytesused),
    }


def decode_stream(
    nodes: Nodes, fmt: StreamFormat, requests: Iterable[DecodeRequest], frames: Path | None = None
) -> dict[str, Any]:
    """Decode ``requests`` on ``nodes`` with the trace on; the evidence, however far it got.

    With ``frames``, every CAPTURE payload is kept there too, for pictures of a difference.
    """
    enable_systems(nodes.transport)
    try:
        pipe: TracePipe | None = TracePipe(nodes.transport)
    except TransportError:
        pipe = None
    jobs: list[dict[str, Any]] = []
    stream_md5 = hashlib.md5()
    evidence: dict[str, Any] = {"jobs": jobs}
    try:
        if pipe is not None:
            pipe.drain()
        session = DecodeSession(nodes, fmt, SessionConfig(timeout=20.0))

        def job_done(number: int, request: DecodeRequest, source: DequeuedBuffer) -> None:
            trace = [e.as_json() for e in pipe.read_events()] if pipe is not None else []
            jobs.append(
                {
                    "output": _buffer(source),
                    "payload_bytes": len(request.payload),
                    "trace": trace,
                    "capture": None,
                }
            )

        try:
            for frame in session.decode(requests, job_done):
                stream_md5.update(frame.data)
                if frames is not None:
                    # Read per frame: a resolution change sets a new CAPTURE format mid-stream.
                    capture = session.capture_format
                    save_frame(
                        frames, len(jobs) - 1, frame.data, capture.width, capture.height, capture.fourcc
                    )
                jobs[-1]["capture"] = {"md5": frame.md5, **_buffer(frame.buffer)}
        finally:
            session.close()
    except ConformError as exc:
        evidence["error"] = f"job {len(jobs)}: {exc}"
    finally:
        if pipe is not None:
            pipe.close()
    evidence["stream_md5"] = stream_md5.hexdigest()
    evidence["frames"] = sum(1 for job in jobs if job["capture"] is not None)
    return evidence


def decode_vector(
    nodes: Nodes, item: Item, frames: Path | None = None
) -> tuple[list[list[Any]] | None, Status, str | None]:
    """Build the vector's request stream with its codec's front-end and decode it."""
    from conform.run.sources import request_stream

    assert item.kind is Kind.VECTOR
    try:
        stream = request_stream(item)
    except NotSupportedError as exc:
        return None, Status.NOT_SUPPORTED, str(exc)
    outcome = decode_stream(nodes, stream.format, stream.requests, frames)
    # A case per job, so parity names the first job that differs.
    cases: list[list[Any]] = [[f"job {n:04d}", job] for n, job in enumerate(outcome.pop("jobs"))]
    cases.append(["stream", outcome])
    if "error" in outcome:
        return cases, Status.FAILED, str(outcome["error"])
    return cases, Status.OK, None


def vector_items(suites: Iterable[str]) -> list[Item]:
    from conform.run.sources import suite_items

    items: list[Item] = []
    for suite in suites:
        items += suite_items(suite)
    return items
