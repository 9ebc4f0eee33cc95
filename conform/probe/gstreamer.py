"""GStreamer's v4l2codecs as a probe: every suite stream decoded on the driver under test.

Per stream, how the decode ended and the md5 of every frame (conform/clients/gstreamer.py):
an embedded driver is reached through the device-node shim, a kernel one directly, so a
run compares rust-visl's GStreamer decodes with references recorded from upstream visl.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conform.clients import gstreamer
from conform.drivers import Nodes
from conform.errors import ConformError
from conform.transport.embedded import EmbeddedTransport


def cases(nodes: Nodes) -> Iterator[tuple[str, Any]]:
    missing = gstreamer.available()
    if missing:
        raise ConformError(f"the gstreamer probe cannot run: {missing}")
    streams = gstreamer.suite_streams()
    if isinstance(nodes.transport, EmbeddedTransport):
        results = gstreamer.decode_rust_visl(streams, library=nodes.transport.library)
    else:
        results = gstreamer.decode_here(streams)
    for result in results:
        yield result.name, {"outcome": result.outcome, "frames": result.frames}
