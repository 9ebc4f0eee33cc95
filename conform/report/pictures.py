"""Pictures of a differing frame: the luma of both drivers' CAPTURE buffers and their
difference (amplified), as PNG files a reviewer can open."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np

from conform.parity.compare import ItemResult, State
from conform.run.record import driver_dir_name, safe_name


def png(path: Path, gray: np.ndarray) -> None:
    """An 8-bit grayscale PNG of ``gray`` (height x width)."""
    height, width = gray.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + gray[y].astype(np.uint8).tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


def frames_dir(run_dir: Path, driver: str, item_name: str) -> Path:
    return run_dir / "frames" / driver_dir_name(driver) / safe_name(item_name)


def save_frame(folder: Path, job: int, data: bytes, width: int, height: int, fourcc: str) -> None:
    """One CAPTURE payload, compressed, with the geometry needed to show it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"job{job:04d}.yuv.z").write_bytes(zlib.compress(data, 1))
    meta = folder / "format.json"
    if not meta.exists():
        meta.write_text(json.dumps({"width": width, "height": height, "fourcc": fourcc}))


def _luma(folder: Path, job: int) -> np.ndarray | None:
    frame, meta = folder / f"job{job:04d}.yuv.z", folder / "format.json"
    if not frame.is_file() or not meta.is_file():
        return None
    geometry = json.loads(meta.read_text())
    width, height = geometry["width"], geometry["height"]
    data = np.frombuffer(zlib.decompress(frame.read_bytes()), dtype=np.uint8)
    if data.size < width * height:
        return None
    return data[: width * height].reshape(height, width)


def differing_job(result: ItemResult) -> int | None:
    """The job a vector item's first divergence names (``job 0012: ...``)."""
    if result.state is not State.DIFFERS or not result.detail.startswith("job "):
        return None
    number = result.detail[4:].split(":", 1)[0]
    return int(number) if number.isdigit() else None


def write_pictures(run_dir: Path, reference: str, candidate: str, results: list[ItemResult]) -> list[Path]:
    """reference, candidate and difference PNGs of the first differing frame of each item."""
    written: list[Path] = []
    for result in results:
        job = differing_job(result)
        if job is None:
            continue
        ref = _luma(frames_dir(run_dir, reference, result.name), job)
        cand = _luma(frames_dir(run_dir, candidate, result.name), job)
        if ref is None or cand is None or ref.shape != cand.shape:
            continue
        out = run_dir / "pictures" / safe_name(result.name)
        out.mkdir(parents=True, exist_ok=True)
        diff = np.clip(np.abs(ref.astype(np.int16) - cand.astype(np.int16)) * 8, 0, 255)
        for name, image in (("reference", ref), ("candidate", cand), ("difference", diff)):
            path = out / f"job{job:04d}-{name}.png"
            png(path, image)
            written.append(path)
    return written
