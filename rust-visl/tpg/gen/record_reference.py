#!/usr/bin/env python3
"""Record reference CAPTURE frames from upstream visl (c-visl, kernel tier) for tests/reference.rs.

For every case (size x CAPTURE fourcc x colorimetry) a fresh file handle is opened on
c-visl in the QEMU guest: S_FMT(OUTPUT) with the coded format, S_FMT(CAPTURE) with the
fourcc and the colorimetry (this re-initialises visl's TPG with that colorimetry), then
one request without controls is decoded. The md5 of the dequeued frame and the text lines
visl drew on it (computed from G_FMT, §7.3 of the visl behaviour spec; a wrong line would
show up as an md5 mismatch) are written to tests/data/reference.tsv, one case per line:

    width height fourcc colorspace xfer_func ycbcr_enc quantization md5 lines

where the colorimetry is the one G_FMT(CAPTURE) returned (the TPG's), which differs from
the requested one when v4l2-ioctl's v4l_sanitize_format replaced an invalid value.

with the lines joined by "|" (an empty entry is a line visl leaves blank; line i is drawn
at y = 16 * (i + 1), x = 16).

Usage (host, from the repository root):  python3 rust-visl/tpg/gen/record_reference.py [--frames DIR]
--frames also saves each raw frame as DIR/<case>.bin for debugging.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import json
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
OUT = HERE.parent / "tests" / "data" / "reference.tsv"

TIMESTAMP_NS = 1_000_000

# (width, height): MPEG-2 covers 16..1920 x 16..1152, VP8 the rest up to 16383.
SIZES = [
    (16, 16), (17, 17), (18, 33), (33, 35), (64, 64), (65, 67), (100, 80), (101, 79),
    (176, 144), (642, 362), (641, 361), (1281, 721), (1919, 1151), (1920, 1080), (1920, 1152),
    (2051, 65), (64, 2049), (4097, 2161), (16383, 64), (64, 16383), (16383, 65),
]
# Every width and height around the text thresholds (a line needs y + 16 < h, x + 8 < w).
SWEEP = [(w, 49) for w in range(16, 49)] + [(41, h) for h in range(16, 51)]
COLORSPACES = range(0, 13)


def colorimetries() -> list[tuple[int, int, int, int]]:
    """(colorspace, xfer_func, ycbcr_enc, quantization) cases."""
    cases = [(cs, 0, 0, 0) for cs in COLORSPACES]
    cases += [(3, 0, enc, q) for enc in range(1, 9) for q in range(0, 3)]
    cases += [(7, 0, enc, 0) for enc in (0, 1, 3, 7)]  # JPEG: full range by default
    cases += [(10, 0, 7, q) for q in range(0, 3)]
    cases += [(8, 2, 0, 1), (9, 3, 0, 2), (12, 6, 0, 0), (2, 4, 0, 1), (3, 7, 0, 0), (11, 5, 1, 1)]
    # Values visl does not validate: out of range colorspace, encoding, quantization, xfer.
    cases += [(13, 0, 0, 0), (3, 0, 9, 0), (3, 0, 5, 0), (3, 0, 1, 3), (3, 0, 4, 3), (3, 8, 0, 0)]
    cases += [(0xFFFFFFFF, 0, 0, 0)]
    return cases


def cases() -> list[tuple[int, int, str, tuple[int, int, int, int]]]:
    out = [(w, h, fcc, (3, 0, 0, 0)) for (w, h) in SIZES for fcc in ("NV12", "YU12")]
    out += [(w, h, fcc, (3, 0, 0, 0)) for (w, h) in SWEEP for fcc in ("NV12", "YU12")]
    out += [(65, 67, fcc, c) for c in colorimetries() for fcc in ("NV12", "YU12")]
    out += [(100, 33, fcc, c) for c in colorimetries()[13:30] for fcc in ("NV12",)]
    return out


def guest(frames: bool) -> None:
    sys.path.insert(0, str(REPO))
    from conform.codecs.stream import DecodeRequest, StreamFormat
    from conform.device import PixFormatMplane
    from conform.drivers import resolve_driver
    from conform.run.session import DecodeSession, SessionConfig
    from conform.uapi import C, fourcc_str

    class ColorSession(DecodeSession):
        colorimetry = (0, 0, 0, 0)

        def _setup(self, stream: StreamFormat) -> None:
            cs, xfer, enc, quant = self.colorimetry
            coded = PixFormatMplane(stream.width, stream.height, stream.pixelformat, colorspace=cs)
            self.output_format = self.video.s_fmt(self.output.type, coded)
            derived = self.video.g_fmt(self.capture.type)
            self.capture_format = self.video.s_fmt(
                self.capture.type,
                dataclasses.replace(
                    derived, pixelformat=self.config.capture_pixelformat, colorspace=cs,
                    xfer_func=xfer, ycbcr_enc=enc, quantization=quant,
                ),
            )
            self.output.reqbufs(1)
            self.capture.reqbufs(1)
            for index in self.capture.buffers:
                self.capture.map(index)
                self.capture.qbuf(index)
            self.output.streamon()
            self.capture.streamon()
            self._free_output = list(self.output.buffers)

    def fmt_lines(label: str, f: PixFormatMplane) -> list[str]:
        return [
            f"{label} pixelformat: {fourcc_str(f.pixelformat)}, resolution: {f.width}x{f.height}, "
            f"num_planes: {len(f.planes)}",
            *(
                f"plane[{i}]: bytesperline: {p.bytesperline}, sizeimage: {p.sizeimage}"
                for i, p in enumerate(f.planes)
            ),
        ]

    fourccs = {"NV12": C.V4L2_PIX_FMT_NV12, "YU12": C.V4L2_PIX_FMT_YUV420}
    for w, h, fcc, colorimetry in cases():
        mpeg2 = w <= 1920 and h <= 1152
        coded = C.V4L2_PIX_FMT_MPEG2_SLICE if mpeg2 else C.V4L2_PIX_FMT_VP8_FRAME
        refs = ["backward_ref_ts: 0", "forward_ref_ts: 0"] if mpeg2 else [
            "last_ref_ts: 0", "golden_ref_ts: 0", "alt_ref_ts: 0"]
        ColorSession.colorimetry = colorimetry
        session = ColorSession(
            resolve_driver("c-visl").connect(), StreamFormat(coded, w, h),
            SessionConfig(capture_pixelformat=fourccs[fcc]),
        )
        try:
            req = DecodeRequest(controls=(), payload=bytes(64), timestamp_ns=TIMESTAMP_NS, flags=0)
            (frame,) = list(session.decode([req]))
            out_fmt = session.video.g_fmt(session.output.type)
            cap_fmt = session.video.g_fmt(session.capture.type)
        finally:
            session.close()
        lines = [
            f"sequence:{frame.buffer.sequence} timestamp:{frame.buffer.timestamp_ns} field:none", "",
            "Reference frames:", *refs, "", *fmt_lines("OUTPUT", out_fmt), "", *fmt_lines("CAPTURE", cap_fmt),
        ]
        record = {
            "case": [w, h, fcc, *colorimetry],
            "stored": [cap_fmt.colorspace, cap_fmt.xfer_func, cap_fmt.ycbcr_enc, cap_fmt.quantization],
            "md5": frame.md5,
            "lines": lines,
        }
        if frames:
            record["frame"] = base64.b64encode(zlib.compress(frame.data, 9)).decode()
        print("REC " + json.dumps(record), flush=True)


def host(frames_dir: Path | None) -> None:
    sys.path.insert(0, str(REPO))
    from conform.kernel import run_in_guest

    argv = [sys.executable, str(Path(__file__).resolve()), "--guest"] + (["--frames"] if frames_dir else [])
    run = run_in_guest(argv, env={"PYTHONPATH": str(REPO)}, timeout=1800, cwd=str(REPO))
    records = [json.loads(line[4:]) for line in run.stdout.splitlines() if line.startswith("REC ")]
    if len(records) != len(cases()):
        sys.stderr.write(run.stdout[-4000:] + getattr(run, "stderr", "")[-4000:])
        raise SystemExit(f"{len(records)} records for {len(cases())} cases")
    rows = []
    for rec in records:
        w, h, fcc, cs, xfer, enc, quant = rec["case"]
        # The ioctl core (v4l_sanitize_format) replaces invalid values before visl sees
        # them; the TPG gets what the CAPTURE format stored, so that is what is recorded.
        cs, xfer, enc, quant = rec["stored"]
        name = f"{w}x{h}-{fcc}-{cs}-{xfer}-{enc}-{quant}"
        if frames_dir:
            frames_dir.mkdir(parents=True, exist_ok=True)
            data = zlib.decompress(base64.b64decode(rec["frame"]))
            assert hashlib.md5(data).hexdigest() == rec["md5"]
            (frames_dir / f"{name}.bin").write_bytes(data)
        rows.append("\t".join([str(w), str(h), fcc, str(cs), str(xfer), str(enc), str(quant), rec["md5"],
                               "|".join(rec["lines"])]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(rows) + "\n")
    print(f"wrote {len(rows)} cases to {OUT}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--guest", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--frames", nargs="?", const="", default=None)
    args = ap.parse_args()
    if args.guest:
        guest(args.frames is not None)
    else:
        host(Path(args.frames) if args.frames else None)


if __name__ == "__main__":
    main()
