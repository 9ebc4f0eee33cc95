"""The kernel UAPI for Python: V4L2 and media structs, constants and ioctl numbers via cffi.

Declarations are generated from real Linux 6.12 headers (``headers`` finds them,
``generate`` and ``macros`` read them) on first use and cached (``cache``); the C
compiler checks them in ``tests/test_uapi_layout.py``.

``ffi``      the cffi FFI holding every struct, union, enum and typedef
``C``        every integer constant and enumerator: ``C.VIDIOC_QUERYCAP``, ``C.V4L2_PIX_FMT_NV12``
``IOCTLS``   ioctl name -> number; ``ioctl_name``/``ioctl_arg_type`` go the other way
``STRUCTS``  every named struct and union
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from conform.uapi.cache import load
from conform.uapi.headers import headers_version

HEADERS_VERSION = headers_version()


class _Constants:
    """Attribute access to the constants; an unknown name says where it was looked for."""

    def __init__(self, values: dict[str, int]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> int:
        raise AttributeError(f"{name} is not an integer constant of the {HEADERS_VERSION} UAPI headers")


# ``ffi`` is typed as Any on purpose: struct cdata is shaped by generated declarations,
# which no static type can describe; the layout test is what checks names and offsets.
_data, ffi = load()

C: Any = _Constants({**_data["enumerators"], **_data["constants"]})
IOCTLS: Mapping[str, int] = MappingProxyType({n: v for n, (v, _) in _data["ioctls"].items()})
STRUCTS: list[str] = list(_data["records"])
_BY_NUMBER: dict[int, str] = {v: n for n, (v, _) in _data["ioctls"].items()}
_ARG_TYPE: dict[int, str | None] = {v: t for _, (v, t) in _data["ioctls"].items()}


def ioctl_name(request: int) -> str:
    """``VIDIOC_S_EXT_CTRLS`` for its number; unknown numbers in hex."""
    return _BY_NUMBER.get(request, f"ioctl {request:#x}")


def ioctl_arg_type(request: int) -> str | None:
    """The C type the ioctl's argument points to (``struct v4l2_format``), None for _IO."""
    return _ARG_TYPE.get(request)


def fourcc(code: str) -> int:
    """``'NV12'`` as the little-endian number V4L2 uses."""
    raw = code.encode("ascii").ljust(4)
    if len(raw) != 4:
        raise ValueError(f"a fourcc has four characters, not {code!r}")
    return int.from_bytes(raw, "little")


def fourcc_str(value: int) -> str:
    """The four characters of a pixel format (big-endian variants end in ``-BE``)."""
    text = (value & 0x7FFFFFFF).to_bytes(4, "little").decode("latin-1")
    return text + "-BE" if value & 0x80000000 else text


__all__ = [
    "HEADERS_VERSION",
    "IOCTLS",
    "STRUCTS",
    "C",
    "ffi",
    "fourcc",
    "fourcc_str",
    "ioctl_arg_type",
    "ioctl_name",
]
