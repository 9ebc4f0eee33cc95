"""The C compiler judges conform's cffi view of the UAPI.

A generated C program, compiled against the same 6.12 headers (and the real libc
<sys/time.h>), prints sizeof and offsetof of every struct, union and field conform
exposes, every ioctl number and every constant; each line must equal cffi's view.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conform.uapi import IOCTLS, STRUCTS, C, ffi, fourcc, fourcc_str, ioctl_arg_type, ioctl_name
from conform.uapi.headers import include_dirs

HEADERS = ("linux/videodev2.h", "linux/v4l2-controls.h", "linux/media.h")


def fields(record: str) -> Iterator[tuple[str, int]]:
    """(C member path, offset) of every field, named nested records walked into."""

    def walk(ctype: ffi.CType, prefix: str, base: int) -> Iterator[tuple[str, int]]:
        for name, field in ctype.fields or ():
            path, offset = f"{prefix}{name}", base + field.offset
            yield path, offset
            if field.type.kind == "struct" or (field.type.kind == "union" and field.type.fields):
                yield from walk(field.type, path + ".", offset)

    yield from walk(ffi.typeof(record), "", 0)


def cffi_view() -> list[str]:
    lines = []
    for record in STRUCTS:
        lines.append(f"S {record} {ffi.sizeof(record)}")
        lines += [f"O {record} {path} {offset}" for path, offset in fields(record)]
    lines += [f"I {name} {value}" for name, value in IOCTLS.items()]
    return lines


def constants_match(compiler_lines: list[str]) -> list[str]:
    """Constants compared as the bits of their C type: ``0xf << 28`` is an int in C."""
    problems = []
    values = vars(C)
    for line in compiler_lines:
        _, name, bits, size = line.split()
        mask = (1 << (8 * int(size))) - 1
        if values[name] & mask != int(bits) & mask:
            problems.append(f"{name}: cffi {values[name]:#x}, C {int(bits):#x} ({size} bytes)")
    return problems


def c_program() -> str:
    out = ["#include <stdio.h>", "#include <stddef.h>", "#include <sys/time.h>"]
    out += [f"#include <{h}>" for h in HEADERS]
    out.append("int main(void) {")
    for record in STRUCTS:
        out.append(f'printf("S {record} %zu\\n", sizeof({record}));')
        out += [
            f'printf("O {record} {path} %zu\\n", offsetof({record}, {path}));' for path, _ in fields(record)
        ]
    out += [f'printf("I {name} %lld\\n", (long long)({name}));' for name in IOCTLS]
    out += [
        f'printf("K {name} %llu %zu\\n", (unsigned long long)({name}), sizeof({name}));' for name in vars(C)
    ]
    out += ["return 0;", "}"]
    return "\n".join(out)


@pytest.fixture(scope="module")
def compiler_view(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    work = tmp_path_factory.mktemp("layout")
    source, binary = work / "layout.c", work / "layout"
    source.write_text(c_program())
    includes = [f"-I{d}" for d in include_dirs()]
    subprocess.run(["gcc", "-O0", "-w", *includes, "-o", str(binary), str(source)], check=True)
    return subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.splitlines()


def test_every_layout_ioctl_and_constant_matches_the_compiler(compiler_view: list[str]) -> None:
    ours = cffi_view()
    layout = [line for line in compiler_view if not line.startswith("K ")]
    assert len(ours) == len(layout)
    mismatches = [f"cffi: {a}\n   C: {b}" for a, b in zip(ours, layout, strict=True) if a != b]
    constants = [line for line in compiler_view if line.startswith("K ")]
    assert len(constants) == len(vars(C))
    mismatches += constants_match(constants)
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:40])


def test_coverage_of_what_stateless_decoding_needs() -> None:
    assert len(STRUCTS) > 120 and len(IOCTLS) > 80 and len(vars(C)) > 1500
    for record in (
        "struct v4l2_ext_control",
        "struct v4l2_ext_controls",
        "struct v4l2_format",
        "struct v4l2_buffer",
        "struct v4l2_ctrl_h264_sps",
        "struct v4l2_ctrl_hevc_slice_params",
        "struct v4l2_ctrl_vp8_frame",
        "struct v4l2_ctrl_mpeg2_quantisation",
        "struct v4l2_ctrl_vp9_frame",
        "struct v4l2_ctrl_av1_frame",
        "struct v4l2_ctrl_fwht_params",
        "struct media_v2_topology",
        "struct media_device_info",
        "struct v4l2_remove_buffers",
    ):
        assert record in STRUCTS, record
    packed = [r for r in STRUCTS if ffi.alignof(r) == 1 and ffi.sizeof(r) > 1]
    assert "struct v4l2_ext_control" in packed and len(packed) >= 20
    for name in (
        "MEDIA_IOC_REQUEST_ALLOC",
        "MEDIA_REQUEST_IOC_QUEUE",
        "MEDIA_REQUEST_IOC_REINIT",
        "VIDIOC_DQBUF",
    ):
        assert name in IOCTLS


def test_ioctl_names_and_argument_types() -> None:
    assert ioctl_name(C.VIDIOC_S_EXT_CTRLS) == "VIDIOC_S_EXT_CTRLS"
    assert ioctl_arg_type(C.VIDIOC_S_EXT_CTRLS) == "struct v4l2_ext_controls"
    assert ioctl_arg_type(C.MEDIA_REQUEST_IOC_QUEUE) is None
    assert ioctl_name(0x1234) == "ioctl 0x1234"


def test_fourcc_round_trip() -> None:
    assert fourcc("NV12") == C.V4L2_PIX_FMT_NV12 and fourcc_str(C.V4L2_PIX_FMT_H264_SLICE) == "S264"
    assert fourcc_str(C.V4L2_PIX_FMT_Y16_BE) == "Y16 -BE"
    with pytest.raises(ValueError):
        fourcc("NV12X")


def test_headers_are_6_12(tmp_path: Path) -> None:
    version = next(d for d in include_dirs() if (d / "linux" / "version.h").exists()) / "linux" / "version.h"
    code = int(version.read_text().split("LINUX_VERSION_CODE")[1].split()[0])
    assert (code >> 16, (code >> 8) & 0xFF) == (6, 12)
