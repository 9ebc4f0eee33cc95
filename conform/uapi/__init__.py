"""The kernel UAPI for Python: V4L2 and media structs, constants and ioctl numbers via cffi.

Declarations are generated from real Linux 6.12 headers (see ``headers`` and
``generate``) on first use and cached; the C compiler checks them in
``tests/test_uapi_layout.py``.

``ffi``      the cffi FFI holding every struct, union, enum and typedef
``C``        every integer constant and enumerator: ``C.VIDIOC_QUERYCAP``, ``C.V4L2_PIX_FMT_NV12``
``IOCTLS``   ioctl name -> number; ``ioctl_name``/``ioctl_arg_type`` go the other way
``STRUCTS``  every named struct and union
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import cffi

from conform.debian import cache_root, locked
from conform.uapi import generate as _generate
from conform.uapi.headers import headers_version, include_dirs

HEADERS_VERSION = headers_version()


def _cache_files() -> tuple[Path, Path]:
    """The cached data (constants, ioctls, records) and the cffi module built from it."""
    generator = Path(_generate.__file__).read_bytes()
    key = hashlib.sha256(generator + HEADERS_VERSION.encode() + cffi.__version__.encode()).hexdigest()[:16]
    folder = cache_root() / "uapi"
    return folder / f"{key}.json", folder / f"_conform_uapi_{key}.py"


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Several xdist workers may import at once: readers see a whole file or none."""
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        write(staged)
        os.replace(staged, path)


def _generate_cache(data_path: Path, module_path: Path) -> None:
    data = _generate.generate(include_dirs())
    builder = cffi.FFI()
    for text, packed in data["chunks"]:
        builder.cdef(text, packed=packed)
    # Out-of-line ABI mode: cffi writes a module holding the parsed type tables, so an
    # import costs milliseconds instead of re-parsing every declaration.
    builder.set_source("_conform_uapi", None)

    def emit(path: Path) -> None:
        with contextlib.redirect_stdout(io.StringIO()):  # cffi announces the file on stdout
            builder.emit_python_code(str(path))

    def dump(path: Path) -> None:
        path.write_text(json.dumps(data))

    _write_atomically(module_path, emit)
    _write_atomically(data_path, dump)


def _load() -> tuple[dict[str, Any], Any]:
    data_path, module_path = _cache_files()
    if not data_path.exists():
        data_path.parent.mkdir(parents=True, exist_ok=True)
        with locked(data_path.with_suffix(".lock")):
            if not data_path.exists():
                _generate_cache(data_path, module_path)
    spec = importlib.util.spec_from_file_location("_conform_uapi", module_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the generated UAPI module {module_path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loaded: dict[str, Any] = json.loads(data_path.read_text())
    return loaded, module.ffi


class _Constants:
    """Attribute access to the constants; an unknown name says where it was looked for."""

    def __init__(self, values: dict[str, int]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> int:
        raise AttributeError(f"{name} is not an integer constant of the {HEADERS_VERSION} UAPI headers")


# ``ffi`` is typed as Any on purpose: struct cdata is shaped by generated declarations,
# which no static type can describe; the layout test is what checks names and offsets.
_data, ffi = _load()

C: Any = _Constants({**_data["enums"], **_data["constants"]})
IOCTLS: MappingProxyType[str, int] = MappingProxyType({n: v for n, (v, _) in _data["ioctls"].items()})
STRUCTS: tuple[str, ...] = tuple(_data["records"])
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
