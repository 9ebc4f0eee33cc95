"""The generated UAPI, cached as one importable Python module per header tree and generator.

The module is what cffi's out-of-line ABI mode emits (the parsed type tables, so loading
it costs milliseconds where re-parsing the declarations costs most of a second) plus a
JSON string with the constants, ioctls and record names.  It lives under
``cache_root()/uapi/<header tag>/`` and its name is a digest of the generator's source,
so editing the generator regenerates.  The warm path only reads: the kernel tier's guest
sees the cache read-only.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import cffi

from conform.debian import cache_root, locked
from conform.uapi.headers import cache_tag

# The sources whose change must regenerate the cache (read as text: importing the
# generator would pull in pycparser on every warm import).
_GENERATOR_SOURCES = ("generate.py", "macros.py", "headers.py", "cache.py")


def module_path() -> Path:
    here = Path(__file__).parent
    digest = hashlib.sha256(cffi.__version__.encode())
    for name in _GENERATOR_SOURCES:
        digest.update((here / name).read_bytes())
    return cache_root() / "uapi" / cache_tag() / f"uapi_{digest.hexdigest()[:16]}.py"


def _write(path: Path) -> None:
    from conform.uapi.generate import generate, load_declarations
    from conform.uapi.headers import include_dirs

    data = generate(include_dirs())
    builder = load_declarations(data.pop("chunks"))
    builder.set_source("_conform_uapi", None)
    # Several xdist workers may generate at once: readers must see a whole file or none.
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
        staged = Path(tmp.name)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # cffi announces the file it writes
            builder.emit_python_code(str(staged))
        with staged.open("a") as out:
            # JSON inside one string literal: Python compiles that in a millisecond, where a
            # dict literal this size takes ten (and the cache may have no .pyc files).
            out.write(f"\nDATA_JSON = {json.dumps(data, separators=(',', ':'))!r}\n")
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)


def load() -> tuple[dict[str, Any], Any]:
    """(DATA, ffi), generating them first if this header tree and generator have none."""
    path = module_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path.with_suffix(".lock")):
            if not path.exists():
                _write(path)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the generated UAPI module {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return json.loads(module.DATA_JSON), module.ffi
