"""The renderers on a hand-made summary: mail-width text, JUnit, KernelCI, pictures."""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np

from conform.parity.compare import ItemResult, State
from conform.parity.verdict import judge
from conform.report import Summary, junit, kcidb, text
from conform.report.pictures import save_frame, write_pictures
from conform.run.items import Item, Kind
from conform.run.record import Record, Status


def _summary() -> Summary:
    results = [
        ItemResult("probe/streaming", State.IDENTICAL, cases=245),
        ItemResult(
            "vector/JVT-AVC_V1/BA_MW_D",
            State.DIFFERS,
            "job 0003: .capture.md5: reference 'aa', candidate 'bb' " + "x" * 120,
            100,
            2,
        ),
    ]
    records = [
        Record(Item(Kind.PROBE, "streaming"), "rust-visl", Status.OK),
        Record(Item(Kind.VECTOR, "BA_MW_D", suite="JVT-AVC_V1"), "rust-visl", Status.CRASHED),
    ]
    return Summary(
        "run-x",
        "rust-visl",
        "upstream visl",
        "conform run",
        "abc123",
        tuple(results),
        tuple(records),
        judge(results, records),
    )


def test_text_report_fits_a_mail_and_names_each_blocker() -> None:
    report = text.render(_summary())
    assert all(len(line) <= 72 for line in report.splitlines())
    assert "verdict: NOT READY" in report
    assert "vector/JVT-AVC_V1/BA_MW_D: differs: job 0003" in report.replace("\n    ", " ")
    assert "candidate crashed" in report


def test_junit_and_kcidb_carry_every_item() -> None:
    suite = ET.fromstring(junit.render(_summary()))
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    tests = json.loads(kcidb.render(_summary()))["tests"]
    assert [t["status"] for t in tests] == ["PASS", "FAIL"]


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    return width, height, zlib.decompress(data[idat + 4 : idat + 4 + length])


def test_pictures_of_the_first_differing_frame(tmp_path: Path) -> None:
    width, height = 8, 4
    ref = np.full(width * height * 3 // 2, 100, dtype=np.uint8)
    cand = ref.copy()
    cand[5] = 110
    name = "vector/JVT-AVC_V1/BA_MW_D"
    for driver, frame in (("c-visl", ref), ("rust-visl", cand)):
        save_frame(
            tmp_path / "frames" / driver / name.replace("/", "_"), 3, frame.tobytes(), width, height, "NV12"
        )
    written = write_pictures(tmp_path, "c-visl", "rust-visl", [_summary().results[1]])
    assert sorted(p.name for p in written) == [
        "job0003-candidate.png",
        "job0003-difference.png",
        "job0003-reference.png",
    ]
    w, h, rows = _png_pixels(next(p for p in written if "difference" in p.name))
    assert (w, h) == (width, height)
    assert rows[1 + 5] == 80 and rows.count(0) == height + width * height - 1  # filter bytes, one lit pixel
