"""Debian trixie's ffmpeg 7.1 as a header oracle: ``-bsf:v trace_headers`` for any stream.

ffmpeg and its dependencies are downloaded with conform's private apt state (never the
host's apt configuration) and unpacked with ``dpkg -x`` under conform's cache; the binary
runs through the unpacked dynamic loader with the unpacked library directories, so
nothing of trixie meets the host's libraries.

The trace_headers bitstream filter prints, per NAL unit, a title line and then one line
per syntax element: ``<bit position> <name> <bits> = <value>``.  :func:`trace_units`
returns those as :class:`TracedUnit` records, parameter sets from the container's
extradata left out (the same units come again in the packets).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from conform.debian import DebianSuite, cache_root, locked
from conform.errors import ConformError

SUITE = "trixie"
PACKAGE = "ffmpeg"
LOADER = "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"

_ELEMENT = re.compile(r"^(\d+)\s+(\S+)\s+[01]+\s+=\s+(-?\d+)$")
_PREFIX = re.compile(r"^\[trace_headers @ 0x[0-9a-f]+\] ")
_SUBSCRIPT = re.compile(r"\[\d+\]")


class FfmpegError(ConformError):
    """ffmpeg could not be fetched, unpacked or run."""


@dataclass(frozen=True, slots=True)
class TracedUnit:
    """One header as trace_headers printed it: its title and (name, value, bit position)s.

    Names lose their subscripts (``offset_for_ref_frame[3]`` → ``offset_for_ref_frame``);
    positions count bits of the RBSP from the NAL header's first bit, as conform's own
    traces do.
    """

    title: str
    elements: tuple[tuple[str, int, int], ...]


def _root() -> Path:
    return cache_root() / "ffmpeg" / SUITE


def install() -> Path:
    """The unpacked root holding trixie's ffmpeg (downloaded and unpacked on first use)."""
    root = _root()
    stamp = root / ".complete"
    if stamp.exists():
        return root
    with locked(root.parent / f"{SUITE}.lock"):
        if stamp.exists():
            return root
        suite = DebianSuite(SUITE)
        archives = suite.root / "archives"
        options = suite._options()  # the same private apt state DebianSuite.download uses
        if not any((suite.root / "lists").glob("*_Packages*")):
            suite.update()
        cmd = ["apt-get", *options, "install", "--download-only", "--no-install-recommends", "-y", PACKAGE]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise FfmpegError(f"downloading {PACKAGE} from {SUITE} failed:\n{done.stderr.strip()}")
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        debs = sorted(archives.glob("*.deb"))
        if not debs:
            raise FfmpegError(f"apt-get left no .deb files in {archives}")
        for deb in debs:
            run = subprocess.run(["dpkg", "-x", str(deb), str(root)], capture_output=True, text=True)
            if run.returncode != 0:
                raise FfmpegError(f"dpkg -x {deb} failed:\n{run.stderr.strip()}")
        if not (root / "usr/bin/ffmpeg").is_file() or not (root / LOADER).is_file():
            raise FfmpegError(f"{root} holds no usr/bin/ffmpeg or {LOADER} after unpacking")
        stamp.write_text("".join(f"{d.name}\n" for d in debs))
    return root


def command(root: Path, *args: str) -> list[str]:
    """argv running the unpacked ffmpeg with ``args`` through the unpacked loader."""
    dirs = sorted({str(p.parent) for p in root.glob("usr/lib/**/*.so*") if p.is_file()})
    dirs += [str(root / "lib/x86_64-linux-gnu")]
    return [str(root / LOADER), "--library-path", ":".join(dirs), str(root / "usr/bin/ffmpeg"), *args]


def version(root: Path | None = None) -> str:
    root = root or install()
    done = subprocess.run(command(root, "-hide_banner", "-version"), capture_output=True, text=True)
    if done.returncode != 0:
        raise FfmpegError(f"ffmpeg -version failed ({done.returncode}):\n{done.stderr.strip()}")
    return done.stdout.splitlines()[0]


def trace_headers(stream: Path, root: Path | None = None) -> str:
    """ffmpeg's trace_headers output (its log, prefixes removed) for ``stream``."""
    root = root or install()
    argv = command(root, "-hide_banner", "-nostdin", "-i", str(stream), "-c:v", "copy",
                   "-bsf:v", "trace_headers", "-f", "null", "-")  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        raise FfmpegError(
            f"ffmpeg trace_headers on {stream} failed ({done.returncode}):\n{done.stderr[-2000:]}"
        )
    return "\n".join(_PREFIX.sub("", line) for line in done.stderr.splitlines())


def trace_units(stream: Path, root: Path | None = None) -> list[TracedUnit]:
    """The traced NAL headers of ``stream`` in bitstream order, extradata left out."""
    return parse_trace(trace_headers(stream, root))


def packet_count(trace: str) -> int:
    """How many packets (access units, for H.264's parser) the trace shows."""
    return sum(1 for line in trace.splitlines() if line.startswith("Packet:"))


def parse_trace(trace: str) -> list[TracedUnit]:
    """The units of trace_headers output (:func:`trace_headers`), extradata left out.

    A unit begins at its ``forbidden_zero_bit`` and takes the title line printed before
    it; later title lines inside it (SEI payload names) do not split it.
    """
    units: list[tuple[str, list[tuple[str, int, int]]]] = []
    title = ""
    in_packets = False
    for line in trace.splitlines():
        if line.startswith("Packet:"):
            in_packets = True
            continue
        m = _ELEMENT.match(line)
        if m is None:
            if line and not line[0].isspace():
                title = line
            continue
        if not in_packets:
            continue
        name, value, pos = _SUBSCRIPT.sub("", m.group(2)), int(m.group(3)), int(m.group(1))
        if name == "forbidden_zero_bit" and pos == 0:
            units.append((title, []))
        if units:
            units[-1][1].append((name, value, pos))
    return [TracedUnit(t, tuple(e)) for t, e in units]
