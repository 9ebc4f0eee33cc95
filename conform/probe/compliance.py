"""v4l2-compliance: fetch the versions conform runs, run them, parse their output, compare.

Two versions are run: Debian bookworm's v4l-utils 1.22 (the host's ``v4l2-compliance``)
and trixie's 1.30, unpacked with its own C library into conform's cache and started
through trixie's dynamic loader.  The output is read as v4l2-compliance prints it
(v4l-utils utils/v4l2-compliance/v4l2-compliance.cpp ``ok()``): a section header, then
``test NAME: RESULT`` lines, each preceded by its ``fail:``/``warn:`` details, and a
``Total for DRIVER device NODE: N, Succeeded: N, Failed: N, Warnings: N`` line per device.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from conform.debian import DebianSuite, cache_root, locked
from conform.errors import ConformError

TRIXIE_PACKAGES = ("v4l-utils", "libv4l-0t64", "libv4lconvert0t64", "libv4l2rds0t64", "libc6", "libgcc-s1",
                   "libstdc++6", "libudev1", "libjpeg62-turbo", "libcap2")  # fmt: skip
VERSIONS = ("1.22", "1.30")
# The option sets run on each driver: the video node, the media device with every node
# it reaches, and the video node with streaming.
OPTION_SETS: dict[str, tuple[str, ...]] = {
    "video": ("-d", "/dev/video0"),
    "media": ("-m", "/dev/media0"),
    "stream": ("-s", "-d", "/dev/video0"),
}

_DEVICE = re.compile(r"^Compliance test for (?P<driver>\S+) device (?P<node>\S+):")
_TEST = re.compile(r"^\s+test (?P<name>.+?): (?P<result>OK \(Not Supported\)|OK|FAIL|.+)$")
_TOTAL = re.compile(
    r"^(?P<grand>Grand )?Total for (?P<driver>\S+) device (?P<node>\S+): (?P<checks>\d+), "
    r"Succeeded: (?P<succeeded>\d+), Failed: (?P<failed>\d+), Warnings: (?P<warnings>\d+)"
)
_SECTION = re.compile(r"^(?P<name>[A-Z][^\t:]*):\s*$")
_DETAIL = re.compile(r"^\s+(?P<kind>fail|warn): (?P<text>.*)$")


class ComplianceError(ConformError):
    """v4l2-compliance could not be fetched, run or read."""


class Status(Enum):
    OK = "ok"
    NOT_SUPPORTED = "not-supported"
    FAIL = "fail"
    OTHER = "other"  # e.g. "Cannot test, specify --expbuf-device"


@dataclass(frozen=True, slots=True)
class Check:
    """One ``test NAME: RESULT`` line, in the device and section it was printed under."""

    device: str
    section: str
    name: str
    result: str
    details: tuple[str, ...]

    @property
    def status(self) -> Status:
        if self.result == "OK":
            return Status.OK
        if self.result == "OK (Not Supported)":
            return Status.NOT_SUPPORTED
        if self.result.startswith("FAIL"):
            return Status.FAIL
        return Status.OTHER

    @property
    def line(self) -> str:
        return f"{self.device} | {self.section} | test {self.name}: {self.result}"


@dataclass(frozen=True, slots=True)
class Total:
    device: str
    grand: bool
    checks: int
    succeeded: int
    failed: int
    warnings: int

    @property
    def line(self) -> str:
        kind = "Grand Total" if self.grand else "Total"
        return (f"{kind} for {self.device}: {self.checks}, Succeeded: {self.succeeded}, "
                f"Failed: {self.failed}, Warnings: {self.warnings}")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Report:
    checks: tuple[Check, ...]
    totals: tuple[Total, ...]

    def keyed(self) -> dict[tuple[str, str, str, int], Check]:
        """Checks by (device, section, name, occurrence): a name may repeat in a section."""
        seen: Counter[tuple[str, str, str]] = Counter()
        out: dict[tuple[str, str, str, int], Check] = {}
        for check in self.checks:
            key = (check.device, check.section, check.name)
            out[(*key, seen[key])] = check
            seen[key] += 1
        return out


def parse(text: str) -> Report:
    """Read v4l2-compliance's output (progress text with carriage returns included)."""
    checks: list[Check] = []
    totals: list[Total] = []
    device, section = "", ""
    details: list[str] = []
    for raw in re.split(r"\r\n|\r|\n", text):
        line = raw.rstrip()
        if m := _DEVICE.match(line):
            device, section, details = m["node"], "", []
        elif m := _TOTAL.match(line):
            totals.append(Total(m["node"], bool(m["grand"]), int(m["checks"]), int(m["succeeded"]),
                                int(m["failed"]), int(m["warnings"])))  # fmt: skip
        elif m := _DETAIL.match(line):
            details.append(f"{m['kind']}: {m['text']}")
        elif m := _TEST.match(line):
            checks.append(Check(device, section, m["name"], m["result"].strip(), tuple(details)))
            details = []
        elif m := _SECTION.match(line):
            section = m["name"]
    if not totals:
        raise ComplianceError("no 'Total for ...' line in v4l2-compliance's output:\n" + text[-2000:])
    return Report(tuple(checks), tuple(totals))


@dataclass(frozen=True, slots=True)
class Difference:
    key: str
    left: str
    right: str


def differences(left: Report, right: Report) -> list[Difference]:
    """Every check whose result differs, appears on one side only, and every differing total."""
    out: list[Difference] = []
    a, b = left.keyed(), right.keyed()
    for key in list(a) + [k for k in b if k not in a]:
        ca, cb = a.get(key), b.get(key)
        ra = ca.result if ca else "(missing)"
        rb = cb.result if cb else "(missing)"
        if ra != rb:
            out.append(Difference(f"{key[0]} | {key[1]} | test {key[2]}" + (f" #{key[3]}" if key[3] else ""),
                                  ra + _why(ca), rb + _why(cb)))  # fmt: skip
    ta = {(t.device, t.grand): t for t in left.totals}
    tb = {(t.device, t.grand): t for t in right.totals}
    for tkey in list(ta) + [k for k in tb if k not in ta]:
        la = ta[tkey].line if tkey in ta else "(missing)"
        lb = tb[tkey].line if tkey in tb else "(missing)"
        if la != lb:
            out.append(Difference(f"{'Grand Total' if tkey[1] else 'Total'} {tkey[0]}", la, lb))
    return out


def _why(check: Check | None) -> str:
    return f" [{'; '.join(check.details)}]" if check and check.details else ""


def trixie_root() -> Path:
    """trixie's v4l-utils with the libraries it runs on, unpacked once into the cache."""
    root = cache_root() / "v4l-utils" / "trixie"
    if (root / ".complete").is_file():
        return root
    suite = DebianSuite("trixie")
    with locked(root.parent / "trixie.lock"):
        if not (root / ".complete").is_file():
            for package in TRIXIE_PACKAGES:
                suite.unpack(package, root)
            (root / ".complete").write_text("\n".join(TRIXIE_PACKAGES) + "\n")
    return root


def command(version: str, *args: str) -> list[str]:
    """The argv that runs v4l2-compliance ``version`` (1.22: the host's; 1.30: trixie's)."""
    if version == "1.22":
        exe = shutil.which("v4l2-compliance")
        if exe is None:
            raise ComplianceError("v4l2-compliance is missing: apt-get install v4l-utils")
        return [exe, *args]
    if version == "1.30":
        root = trixie_root()
        libdir = root / "usr" / "lib" / "x86_64-linux-gnu"
        return [str(libdir / "ld-linux-x86-64.so.2"), "--library-path", str(libdir),
                str(root / "usr" / "bin" / "v4l2-compliance"), *args]  # fmt: skip
    raise ComplianceError(f"no v4l2-compliance {version}; conform runs {', '.join(VERSIONS)}")


MARKER = "=== conform v4l2-compliance"


def guest_script(runs: dict[str, list[str]]) -> str:
    """A shell script running each argv after a marker line, for one guest boot."""
    import shlex

    lines = [f"echo {shlex.quote(f'{MARKER} {name}')}; {shlex.join(argv)} 2>&1"
             for name, argv in runs.items()]  # fmt: skip
    return "\n".join([*lines, "exit 0"]) + "\n"


def split_marked(stdout: str) -> dict[str, str]:
    """The outputs of guest_script's runs, by name."""
    out: dict[str, str] = {}
    name = None
    for line in stdout.splitlines(keepends=True):
        if line.startswith(MARKER + " "):
            name = line[len(MARKER) + 1 :].strip()
            out[name] = ""
        elif name is not None:
            out[name] += line
    return out
