"""conform as fluster decoders: ``conform fluster -- run -d conform-H.264 -ts JVT-AVC_V1``.

For every codec conform has a front-end for, a fluster decoder named ``conform-<codec>``
builds the vector's request stream and decodes it on a V4L2 stateless decoder through
conform's own session: ``kernel:/dev/video0`` unless CONFORM_FLUSTER_DRIVER names
another (``kernel:/dev/video2``, ``rust-visl``).  The CAPTURE frames are written in the
order the driver returns them, cropped to the coded size, as fluster's yuv420p output:
decode order, so streams whose display order differs (B frames) do not match fluster's
md5 yet.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conform.codecs.frontend import FRONTENDS, build_request_stream
from conform.errors import NotSupportedError
from conform.uapi import C

DRIVER_ENV = "CONFORM_FLUSTER_DRIVER"


def _decode(codec: str, source: Path, target: Path, ten_bit: bool) -> None:
    from conform.drivers import resolve_driver
    from conform.run.session import DecodeSession, SessionConfig

    if ten_bit:
        raise NotSupportedError("not supported: 10-bit output")
    stream = build_request_stream(codec, source.read_bytes())
    nodes = resolve_driver(os.environ.get(DRIVER_ENV, "kernel:/dev/video0")).connect()
    session = DecodeSession(nodes, stream.format, SessionConfig(capture_pixelformat=C.V4L2_PIX_FMT_YUV420))
    try:
        with target.open("wb") as out:
            for frame in session.decode(stream.requests):
                # Per frame: a resolution change replaces both formats mid-stream.
                width, height = session.stream.width, session.stream.height
                chroma_w, chroma_h = (width + 1) // 2, (height + 1) // 2
                fmt = session.capture_format
                stride = fmt.planes[0].bytesperline or fmt.width
                data = frame.data
                luma = b"".join(data[y * stride : y * stride + width] for y in range(height))
                base, half = stride * fmt.height, stride // 2
                cb = b"".join(data[base + y * half : base + y * half + chroma_w] for y in range(chroma_h))
                base += half * ((fmt.height + 1) // 2)
                cr = b"".join(data[base + y * half : base + y * half + chroma_w] for y in range(chroma_h))
                out.write(luma + cb + cr)
    finally:
        session.close()


def register() -> None:
    """Register one fluster decoder per conform front-end."""
    from fluster.codec import Codec, OutputFormat
    from fluster.decoder import Decoder, register_decoder
    from fluster.decoder import NotSupportedError as FlusterNotSupported
    from fluster.utils import file_checksum

    for codec in FRONTENDS:

        def decode(
            self: Any,
            input_filepath: str,
            output_filepath: str,
            output_format: Any,
            timeout: int,
            verbose: bool,
            keep_files: bool,
            optional_params: dict[str, Any] | None = None,
            _codec: str = codec,
        ) -> str:
            try:
                _decode(
                    _codec, Path(input_filepath), Path(output_filepath), output_format != OutputFormat.YUV420P
                )
            except NotSupportedError as exc:
                raise FlusterNotSupported(str(exc)) from exc
            return str(file_checksum(output_filepath))

        attrs = {
            "name": f"conform-{codec}",
            "codec": Codec(codec),
            "hw_acceleration": True,
            "description": f"conform's {codec} front-end on a V4L2 stateless decoder",
            "decode": decode,
        }
        name = f"Conform{codec.replace('.', '')}Decoder"
        # A module attribute, so fluster's worker processes can unpickle the decoder.
        cls = type(name, (Decoder,), {**attrs, "__module__": __name__, "__qualname__": name})
        globals()[name] = cls
        register_decoder(cls)


def link_store(resources: Path) -> Path:
    """fluster's resources layout (<suite>/<input file>) as links into conform's
    vector store, so fluster runs on the streams conform already has."""
    from conform.run.suite import load_suites
    from conform.run.vector import search_path

    for suite in load_suites():
        for vector in suite.resolve(search_path()).test_vectors:
            if vector.path is None:
                continue
            link = resources / suite.name / vector.input_file
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(vector.path)
    return resources


def run_fluster(argv: Sequence[str]) -> int:
    """fluster's command line, with conform's decoders registered."""
    import fluster.main

    register()
    sys.argv = ["fluster", *argv]
    try:
        fluster.main.fluster_main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
