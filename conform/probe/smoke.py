"""The decode smoke probe: a short synthetic H.264 request stream and checks on its frames.

Not a codec front-end: the controls describe a plausible baseline stream (an IDR, then
P frames each referencing up to four earlier ones) so that every line visl draws for
H.264 carries a value the probe chose, and the frames can be checked against §7 of the
visl behaviour spec: sequence, timestamp, POC, DPB timestamps, both formats, bars.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from conform.codecs.stream import DecodeRequest, StreamFormat
from conform.device import ControlValue, PixFormatMplane
from conform.drivers import Nodes
from conform.probe.pattern import compare_frame, expected_frame
from conform.run.session import DecodeSession, Frame, SessionConfig
from conform.uapi import C, ffi, fourcc_str

FRAME_PERIOD_NS = 33_333_000
# Just under 2**32 ns, so later timestamps exercise visl's 32-bit DPB text conversion.
FIRST_TIMESTAMP_NS = 4_294_900_000
MAX_REFS = 4
MB = 16


@dataclass(frozen=True, slots=True)
class SmokeStream:
    width: int
    height: int
    count: int

    def format(self) -> StreamFormat:
        return StreamFormat(
            C.V4L2_PIX_FMT_H264_SLICE,
            self.width,
            self.height,
            device_controls=(
                ControlValue(
                    C.V4L2_CID_STATELESS_H264_DECODE_MODE, C.V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED
                ),
                ControlValue(C.V4L2_CID_STATELESS_H264_START_CODE, C.V4L2_STATELESS_H264_START_CODE_ANNEX_B),
            ),
        )

    def timestamp(self, n: int) -> int:
        return FIRST_TIMESTAMP_NS + n * FRAME_PERIOD_NS

    def references(self, n: int) -> list[int]:
        """Frame numbers frame ``n`` references, most recent first."""
        return list(range(n - 1, max(n - 1 - MAX_REFS, -1), -1))

    def requests(self) -> Iterator[DecodeRequest]:
        sps, pps = self._sps(), self._pps()
        for n in range(self.count):
            decode = self._decode_params(n)
            nal = bytes([0x65 if n == 0 else 0x41]) + bytes((n * 7 + i) & 0xFF for i in range(64))
            yield DecodeRequest(
                controls=(
                    ControlValue.of(C.V4L2_CID_STATELESS_H264_SPS, sps),
                    ControlValue.of(C.V4L2_CID_STATELESS_H264_PPS, pps),
                    ControlValue.of(C.V4L2_CID_STATELESS_H264_DECODE_PARAMS, decode),
                ),
                payload=b"\x00\x00\x00\x01" + nal,
                timestamp_ns=self.timestamp(n),
                flags=C.V4L2_BUF_FLAG_KEYFRAME if n == 0 else C.V4L2_BUF_FLAG_PFRAME,
            )

    def _sps(self) -> object:
        sps = ffi.new("struct v4l2_ctrl_h264_sps *")
        sps.profile_idc, sps.level_idc, sps.chroma_format_idc = 66, 30, 1
        sps.log2_max_frame_num_minus4 = 4
        sps.log2_max_pic_order_cnt_lsb_minus4 = 4
        sps.max_num_ref_frames = MAX_REFS
        sps.pic_width_in_mbs_minus1 = (self.width + MB - 1) // MB - 1
        sps.pic_height_in_map_units_minus1 = (self.height + MB - 1) // MB - 1
        sps.flags = C.V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY | C.V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE
        return sps

    def _pps(self) -> object:
        pps = ffi.new("struct v4l2_ctrl_h264_pps *")
        pps.flags = C.V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT
        return pps

    def _decode_params(self, n: int) -> object:
        dp = ffi.new("struct v4l2_ctrl_h264_decode_params *")
        dp.nal_ref_idc = 1
        dp.frame_num = n % 256
        dp.pic_order_cnt_lsb = (2 * n) % 256
        dp.top_field_order_cnt = dp.bottom_field_order_cnt = 2 * n
        dp.flags = C.V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC if n == 0 else C.V4L2_H264_DECODE_PARAM_FLAG_PFRAME
        for slot, ref in enumerate(self.references(n)):
            entry = dp.dpb[slot]
            entry.reference_ts = self.timestamp(ref)
            entry.frame_num = entry.pic_num = ref % 256
            entry.fields = C.V4L2_H264_FRAME_REF
            entry.top_field_order_cnt = entry.bottom_field_order_cnt = 2 * ref
            entry.flags = C.V4L2_H264_DPB_ENTRY_FLAG_VALID | C.V4L2_H264_DPB_ENTRY_FLAG_ACTIVE
        return dp

    def text_lines(
        self, n: int, sequence: int, output: PixFormatMplane, capture: PixFormatMplane
    ) -> list[str | None]:
        """The text §7.3 says visl draws on frame ``n`` (H.264, tpg_verbose off)."""
        refs = self.references(n) + [None] * 16
        dpb = [
            f"dpb[{i}]:{(self.timestamp(r) if r is not None else 0) & 0xFFFFFFFF}"
            for i, r in enumerate(refs[:16])
        ]

        def fmt_lines(label: str, fmt: PixFormatMplane) -> list[str | None]:
            return [
                f"{label} pixelformat: {fourcc_str(fmt.pixelformat)}, resolution: {fmt.width}x{fmt.height}, "
                f"num_planes: {len(fmt.planes)}",
                f"plane[0]: bytesperline: {fmt.planes[0].bytesperline}, sizeimage: {fmt.planes[0].sizeimage}",
            ]

        return [
            f"sequence:{sequence} timestamp:{self.timestamp(n)} field:none",
            None,
            f"H264: {(2 * n) % 256}",
            None,
            "Reference frames:",
            *dpb,
            None,
            *fmt_lines("OUTPUT", output),
            None,
            *fmt_lines("CAPTURE", capture),
        ]


def check_frames(
    stream: SmokeStream,
    frames: Sequence[Frame],
    output: PixFormatMplane,
    capture: PixFormatMplane,
    font: np.ndarray,
) -> list[str]:
    """Every way the frames depart from the spec, each naming its frame; empty when all match."""
    problems = []
    if len(frames) != stream.count:
        problems.append(f"{len(frames)} frames came back for {stream.count} requests")
    size = capture.planes[0].sizeimage
    for n, frame in enumerate(frames):
        buf = frame.buffer
        where = f"frame {n}"
        if buf.sequence != n:
            problems.append(f"{where}: sequence {buf.sequence}, expected {n}")
        if buf.timestamp_ns != stream.timestamp(n):
            problems.append(f"{where}: timestamp {buf.timestamp_ns}, expected {stream.timestamp(n)}")
        if buf.bytesused[0] != size:
            problems.append(f"{where}: bytesused {buf.bytesused[0]}, expected sizeimage {size}")
        lines = stream.text_lines(n, buf.sequence, output, capture)
        want = expected_frame(capture.width, capture.height, capture.pixelformat, lines, font)
        problems += [
            f"{where}: {p}"
            for p in compare_frame(frame.data, want, capture.width, capture.height, capture.pixelformat)
        ]
    return problems


@dataclass(frozen=True, slots=True)
class SmokeReport:
    stream: SmokeStream
    capture_fourcc: str
    capture: PixFormatMplane
    frames: tuple[Frame, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        s = self.stream
        c = self.capture
        lines = [
            f"Decode smoke (H.264 {s.width}x{s.height} -> {self.capture_fourcc}, {s.count} requests; "
            f"CAPTURE colorspace {c.colorspace} ycbcr_enc {c.ycbcr_enc} quantization {c.quantization} "
            f"xfer_func {c.xfer_func}):"
        ]
        for n, frame in enumerate(self.frames):
            failed = any(p.startswith(f"frame {n}:") for p in self.problems)
            b = frame.buffer
            lines.append(
                f"  test frame {n} (sequence {b.sequence}, timestamp {b.timestamp_ns}, md5 {frame.md5}): "
                + ("FAIL" if failed else "OK")
            )
        lines += [f"    {p}" for p in self.problems]
        failures = len({p.split(":")[0] for p in self.problems})
        succeeded = s.count - failures
        lines.append(f"Total for decode smoke: {s.count}, Succeeded: {succeeded}, Failed: {failures}")
        return "\n".join(lines) + "\n"


def run_smoke(nodes: Nodes, width: int, height: int, capture_pixelformat: int, count: int) -> SmokeReport:
    """Decode ``count`` synthetic requests on ``nodes`` and check every frame."""
    from conform.kernel import source_tree
    from conform.probe.font import load_font_8x16

    font = load_font_8x16(source_tree())
    stream = SmokeStream(width, height, count)
    session = DecodeSession(nodes, stream.format(), SessionConfig(capture_pixelformat=capture_pixelformat))
    try:
        frames = tuple(session.decode(stream.requests()))
        output, capture = session.video.g_fmt(session.output.type), session.video.g_fmt(session.capture.type)
    finally:
        session.close()
    problems = check_frames(stream, frames, output, capture, font)
    return SmokeReport(stream, fourcc_str(capture_pixelformat), capture, frames, tuple(problems))
