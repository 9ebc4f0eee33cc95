"""The C compiler judges conform's cffi view of the UAPI.

A generated C program, compiled against the same 6.12 headers (and the real libc
<sys/time.h>), prints sizeof and alignment of every struct, union and typedef conform
exposes, offsetof of every field (into anonymous members and named nested records),
every ioctl number and every constant; each must equal cffi's view.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from conform.uapi import IOCTLS, STRUCTS, C, ffi, fourcc, fourcc_str, ioctl_arg_type, ioctl_name
from conform.uapi.generate import UapiGenerationError, declarations, load_declarations
from conform.uapi.headers import TOP_HEADERS, include_dirs
from conform.uapi.macros import Evaluator, NotConstant, expand, parse_define, tokenize

# Object-like macros of the headers that are not integer constants a C program could use:
# two strings, and two masks built with GENMASK, which the kernel defines but the UAPI
# headers don't (a program naming them does not compile).
NOT_INTEGERS = {
    "V4L2_MPEG_VBI_IVTV_MAGIC0",
    "V4L2_MPEG_VBI_IVTV_MAGIC1",
    "V4L2_FWHT_FL_COMPONENTS_NUM_MSK",
    "V4L2_FWHT_FL_PIXENC_MSK",
}
LIBC_RECORDS = {"struct timeval", "struct timespec"}


def fields(record: str) -> Iterator[tuple[str, int]]:
    """(C member path, offset) of every field, named nested records walked into.

    cffi lists an anonymous member's fields as the record's own, which is how C names
    them too: ``offsetof(struct v4l2_ext_control, value)``.
    """

    def walk(ctype: Any, prefix: str, base: int) -> Iterator[tuple[str, int]]:
        for name, field in ctype.fields or ():
            path, offset = f"{prefix}{name}", base + field.offset
            yield path, offset
            if field.type.kind in ("struct", "union"):
                yield from walk(field.type, path + ".", offset)

    yield from walk(ffi.typeof(record), "", 0)


def typedefs() -> list[str]:
    return sorted(ffi.list_types()[0])


def cffi_view() -> dict[str, int]:
    """Every checked quantity by a key naming it, as cffi sees it."""
    view: dict[str, int] = {}
    for record in STRUCTS:
        view[f"size {record}"] = ffi.sizeof(record)
        view[f"align {record}"] = ffi.alignof(record)
        view.update((f"offset {record} {path}", offset) for path, offset in fields(record))
    for name in typedefs():
        view[f"size {name}"] = ffi.sizeof(name)
        view[f"align {name}"] = ffi.alignof(name)
    view.update((f"ioctl {name}", value) for name, value in IOCTLS.items())
    return view


def c_program() -> str:
    out = ["#include <stdio.h>", "#include <stddef.h>", "#include <sys/time.h>"]
    out += [f"#include <{h}>" for h in TOP_HEADERS]
    # A constant in its C type: sign and magnitude, and the type's size, so no printf
    # conversion can hide bits.
    out.append(
        '#define K(n) printf("constant %s %s%llu\\nconstant-size %s %zu\\n", #n, (n) < 0 ? "-" : "", '
        "(n) < 0 ? -(unsigned long long)(n) : (unsigned long long)(n), #n, sizeof(n))"
    )
    out.append("int main(void) {")
    for kind in STRUCTS, typedefs():
        for t in kind:
            out.append(f'printf("size {t} %zu\\n", sizeof({t}));')
            out.append(f'printf("align {t} %zu\\n", _Alignof({t}));')
    for record in STRUCTS:
        for path, _ in fields(record):
            out.append(f'printf("offset {record} {path} %zu\\n", offsetof({record}, {path}));')
    out += [f'printf("ioctl {name} %llu\\n", (unsigned long long)({name}));' for name in IOCTLS]
    out += [f"K({name});" for name in vars(C)]
    out += ["return 0;", "}"]
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def compiler_view(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The compiled program's output: key -> value text."""
    work = tmp_path_factory.mktemp("layout")
    source, binary = work / "layout.c", work / "layout"
    source.write_text(c_program())
    includes = [f"-I{d}" for d in include_dirs()]
    # -w: comparing unsigned constants with 0 is exactly what K() means to do.
    subprocess.run(["gcc", "-std=gnu11", "-O0", "-w", *includes, "-o", str(binary), str(source)], check=True)
    lines = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.splitlines()
    return {key: value for key, _, value in (line.rpartition(" ") for line in lines)}


def constant_problem(name: str, ours: int, c_value: int, size: int) -> str | None:
    """Our value must be C's, or C's bits read unsigned where C overflowed an int (1 << 31)."""
    if ours == c_value or (c_value < 0 and ours == c_value + (1 << (8 * size))):
        return None
    return f"constant {name}: cffi {ours:#x}, C {c_value:#x} ({size} bytes)"


def test_every_layout_ioctl_and_constant_matches_the_compiler(compiler_view: dict[str, str]) -> None:
    ours = cffi_view()
    problems = [f"{key}: missing from the C program's output" for key in ours if key not in compiler_view]
    problems += [
        f"{key}: cffi {value}, C {compiler_view[key]}"
        for key, value in ours.items()
        if key in compiler_view and str(value) != compiler_view[key]
    ]
    constants = {key.split()[1]: int(v) for key, v in compiler_view.items() if key.startswith("constant ")}
    assert set(constants) == set(vars(C))
    for name, value in constants.items():
        size = int(compiler_view[f"constant-size {name}"])
        problems += filter(None, [constant_problem(name, getattr(C, name), value, size)])
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)
    records = [key for key in ours if key.startswith("size struct ") or key.startswith("size union ")]
    offsets = [key for key in ours if key.startswith("offset ")]
    assert len(records) > 130 and len(offsets) > 1200 and len(constants) > 2000


def test_tricky_members_are_compared() -> None:
    keys = cffi_view()
    for key in (
        "offset struct v4l2_ext_control value",  # anonymous packed union of a packed record
        "offset struct v4l2_ext_control ptr",
        "offset struct v4l2_ext_control p_av1_frame",
        "offset struct v4l2_format fmt.pix_mp.plane_fmt",
        "offset struct v4l2_buffer m.planes",
        "offset struct v4l2_buffer timestamp.tv_usec",
        "offset struct v4l2_ctrl_h264_sps flags",
        "offset struct v4l2_ctrl_hevc_slice_params pred_weight_table.luma_offset_l0",
        "offset struct v4l2_ctrl_av1_frame loop_filter.ref_deltas",
        "offset struct v4l2_ctrl_vp9_frame quant.delta_q_uv_ac",
        "offset struct media_v2_topology ptr_links",
        "offset struct media_v2_entity flags",
        "size struct v4l2_ctrl_mpeg2_quantisation",
        "size struct v4l2_ctrl_fwht_params",
        "size struct v4l2_ctrl_vp8_frame",
        "size struct media_device_info",
        "size struct v4l2_remove_buffers",
        "size v4l2_std_id",
        "ioctl MEDIA_IOC_REQUEST_ALLOC",
        "ioctl MEDIA_REQUEST_IOC_QUEUE",
        "ioctl MEDIA_REQUEST_IOC_REINIT",
        "ioctl VIDIOC_S_EXT_CTRLS",
        "ioctl VIDIOC_DQBUF",
    ):
        assert key in keys, key
    assert ffi.alignof("struct v4l2_ext_control") == 1
    assert ffi.offsetof("struct v4l2_ext_control", "ptr") == 12


def header_texts() -> dict[str, str]:
    root = include_dirs()[0]
    return {h: (root / h).read_text().replace("\\\n", " ") for h in TOP_HEADERS}


def test_every_record_and_integer_macro_of_the_headers_is_exposed() -> None:
    texts = "\n".join(header_texts().values())
    named = {f"{kind} {name}" for kind, name in re.findall(r"^\s*(struct|union)\s+(\w+)\s*\{", texts, re.M)}
    assert len(named) > 130
    assert set(STRUCTS) == named | LIBC_RECORDS
    # A define with no value (an include guard such as _DMA_BUF_UAPI_H_) is no integer.
    defined = set(re.findall(r"^\s*#\s*define\s+(\w+)\b(?!\()[ \t]*\S", texts, re.M))
    exposed = {name for name in defined if not name.startswith("__")} - NOT_INTEGERS
    assert exposed <= set(vars(C)), sorted(exposed - set(vars(C)))
    assert not NOT_INTEGERS & set(vars(C))


def test_ioctls_are_exactly_the_ioctl_macros() -> None:
    families = ("VIDIOC_", "MEDIA_IOC_", "MEDIA_REQUEST_IOC_", "DMA_BUF_IOCTL_", "DMA_BUF_SET_NAME")
    prefixed = {name for name in vars(C) if name.startswith(families)}
    assert set(IOCTLS) == prefixed and len(IOCTLS) > 80


def test_ioctl_names_and_argument_types() -> None:
    assert ioctl_name(C.VIDIOC_S_EXT_CTRLS) == "VIDIOC_S_EXT_CTRLS"
    assert ioctl_name(C.MEDIA_IOC_G_TOPOLOGY) == "MEDIA_IOC_G_TOPOLOGY"
    assert ioctl_arg_type(C.VIDIOC_S_EXT_CTRLS) == "struct v4l2_ext_controls"
    assert ioctl_arg_type(C.VIDIOC_S_FMT) == "struct v4l2_format"
    assert ioctl_arg_type(C.MEDIA_IOC_REQUEST_ALLOC) == "int"
    assert ioctl_arg_type(C.MEDIA_REQUEST_IOC_QUEUE) is None
    assert ioctl_name(0x1234) == "ioctl 0x1234" and ioctl_arg_type(0x1234) is None
    for name, number in IOCTLS.items():
        arg = ioctl_arg_type(number)
        assert (number >> 16) & 0x3FFF == (ffi.sizeof(arg) if arg else 0), name


def test_anonymous_members_read_as_in_c() -> None:
    ctrl = ffi.new("struct v4l2_ext_control *")
    ctrl.value = -2
    assert ctrl.value64 & 0xFFFFFFFF == 0xFFFFFFFE
    sps = ffi.new("struct v4l2_ctrl_h264_sps *")
    ctrl.ptr = sps
    assert ctrl.p_h264_sps == sps
    fmt = ffi.new("struct v4l2_format *", {"type": C.V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE})
    fmt.fmt.pix_mp.plane_fmt[1].sizeimage = 7
    assert ffi.offsetof("struct v4l2_format", "fmt") == 8 and fmt.fmt.pix_mp.plane_fmt[1].sizeimage == 7


def test_macro_evaluation_follows_c() -> None:
    lines = [
        "#define _AC(X,Y) X##Y",
        "#define ONE _AC(1,UL)",
        "#define PAIR(a, b) ((__u32)(a) | ((__u32)(b) << 8))",
        "#define TWICE(x) ((x) * 2)",
        "#define NESTED TWICE(TWICE(ONE))",
        "#define SELF (SELF + 1)",
    ]
    macros = dict(filter(None, map(parse_define, lines)))

    def cast(ctype: str, v: int) -> int:
        return int(ffi.cast(ctype, v))

    def value(text: str) -> int:
        tokens = expand(tokenize(text), macros).tokens
        return Evaluator(tokens, {}, ffi.sizeof, cast, lambda name: name.startswith("__")).value()

    assert value("ONE") == 1 and value("NESTED") == 4 and value("PAIR('a', 'b')") == 0x6261
    assert value("-7 / 2") == -3 and value("-7 % 2") == -1  # C truncates toward zero
    assert value("(__u8)0x1ff") == 0xFF and value("(__s8)0xff") == -1
    assert value("1 ? 2 : 3") == 2 and value("0 || 3 && 4") == 1 and value("1 + 2 * 3 << 1") == 14
    assert value("010 + 0x10U + '\\0' + '\\x41'") == 8 + 16 + 0 + 65
    assert value("sizeof(struct v4l2_format)") == ffi.sizeof("struct v4l2_format")
    for text in ("SELF", '"itv0"', "1.5", "UNKNOWN", "1 <<", "(1"):
        with pytest.raises(NotConstant):
            value(text)


def test_packing_cffi_cannot_express_stops_generation() -> None:
    packed = "struct a { char c; int i; } __attribute__((packed));\n"
    plain = "struct b { char c; int i; };\n"
    decls = declarations(packed + plain)
    assert [is_packed for _, is_packed in decls.chunks] == [True, False]
    small = load_declarations(decls.chunks)
    assert (small.sizeof("struct a"), small.sizeof("struct b")) == (5, 8)
    for bad in (
        "struct c { char c; union { int i; } __attribute__((packed)); };",
        "typedef struct { char c; int i; } __attribute__((packed)) d;",
        "struct e { char c; } __attribute__((aligned(8)));",
    ):
        with pytest.raises(UapiGenerationError):
            declarations(bad)


def test_fourcc_round_trip() -> None:
    assert fourcc("NV12") == C.V4L2_PIX_FMT_NV12 and fourcc_str(C.V4L2_PIX_FMT_NV12) == "NV12"
    assert fourcc_str(C.V4L2_PIX_FMT_H264_SLICE) == "S264" and fourcc("S264") == C.V4L2_PIX_FMT_H264_SLICE
    assert fourcc("Y16") == fourcc("Y16 ")
    assert fourcc_str(C.V4L2_PIX_FMT_Y16_BE) == "Y16 -BE"
    with pytest.raises(ValueError):
        fourcc("NV12X")


def test_headers_are_6_12() -> None:
    version = next(d for d in include_dirs() if (d / "linux" / "version.h").exists()) / "linux" / "version.h"
    code = int(version.read_text().split("LINUX_VERSION_CODE")[1].split()[0])
    assert (code >> 16, (code >> 8) & 0xFF) == (6, 12)
