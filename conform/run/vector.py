"""One test vector: a coded stream and what is expected of it (fluster's test_vector.py shape).

The serialised fields are fluster's JSON keys; fields marked ``runtime`` in their metadata
are filled in while resolving and never written back.  Vector files live in a vector
store (``--vectors-dir``, ``CONFORM_VECTORS``, else a user cache directory, else the
CI store ``shared/vectors`` beside the checkout's parent) or, for streams made here, in
the repository's ``vectors/streams``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import conform
from conform.debian import cache_root
from conform.errors import ConformError

RUNTIME = {"runtime": True}
"""Dataclass metadata of fields that are not part of a suite's JSON."""


class VectorError(ConformError):
    """A vector's file cannot be found or is not the file the suite names."""


class OutputFormat(Enum):
    """fluster's output_format spellings (the ones conform's suites use)."""

    YUV420P = "yuv420p"
    YUV422P = "yuv422p"
    YUV444P = "yuv444p"
    YUV420P10LE = "yuv420p10le"
    YUV422P10LE = "yuv422p10le"
    GRAY = "gray"
    NONE = "None"


@dataclass(frozen=True, slots=True)
class Vector:
    name: str
    source: str
    source_checksum: str
    input_file: str
    """Path of the stream relative to the vector store (or to ``vectors/streams``)."""
    output_format: OutputFormat
    result: str
    """fluster's md5 of the whole decoded output; empty when there is none."""
    profile: str | None = None
    path: Path | None = field(default=None, metadata=RUNTIME, compare=False)
    """Where ``input_file`` was found (set by :meth:`resolve`)."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vector:
        kw = {
            f.name: data[f.name]
            for f in dataclasses.fields(cls)
            if not f.metadata.get("runtime") and f.name in data
        }
        kw["output_format"] = OutputFormat(kw.get("output_format", "None"))
        return cls(**kw)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("runtime") or (value is None and f.default is None):
                continue
            out[f.name] = value.value if isinstance(value, Enum) else value
        return out

    def resolve(self, stores: list[Path]) -> Vector:
        """This vector with ``path`` set: the first store holding ``input_file``."""
        for store in stores:
            candidate = store / self.input_file
            if candidate.is_file():
                return dataclasses.replace(self, path=candidate)
        where = ", ".join(str(s) for s in stores) or "no vector store"
        raise VectorError(f"vector {self.name}: {self.input_file} is in none of: {where}")

    def read(self) -> bytes:
        """The stream's bytes (:meth:`resolve` first).

        ``source_checksum`` is fluster's md5 of the *source* (often a zip), not of the
        stream, so it is not checked here.
        """
        if self.path is None:
            raise VectorError(f"vector {self.name} is not resolved to a file")
        return self.path.read_bytes()


def repo_root() -> Path:
    return Path(conform.__file__).resolve().parents[1]


def streams_dir() -> Path:
    """Streams made in this repository, with their recipes."""
    return repo_root() / "vectors" / "streams"


def vector_store(explicit: str | Path | None = None) -> Path:
    """The vector store: ``explicit`` (``--vectors-dir``), ``CONFORM_VECTORS``, the user cache
    directory if it holds anything, else ``../shared/vectors`` relative to the checkout
    (this repository's CI layout, ``../shared/vectors``)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("CONFORM_VECTORS")
    if env:
        return Path(env)
    cache = cache_root() / "vectors"
    if cache.is_dir() and any(cache.iterdir()):
        return cache
    sibling = repo_root().parent / "shared" / "vectors"
    if sibling.is_dir():
        return sibling
    return cache


def search_path(explicit: str | Path | None = None) -> list[Path]:
    """Where vector files are looked for, in order."""
    return [vector_store(explicit), streams_dir()]
