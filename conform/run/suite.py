"""Test suites in fluster's JSON format (fluster's test_suite.py shape), codec-independent.

A suite file holds ``name``, ``codec``, ``description`` and ``test_vectors``; conform's
suites live in ``vectors/suites/`` of the repository.  Loading resolves nothing: call
:meth:`Suite.resolve` with a search path (:func:`conform.run.vector.search_path`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from conform.errors import ConformError
from conform.run.vector import Vector, repo_root


class SuiteError(ConformError):
    """A suite file is missing or malformed."""


class Codec(Enum):
    """fluster's codec spellings."""

    H264 = "H.264"
    H265 = "H.265"
    VP8 = "VP8"
    VP9 = "VP9"
    AV1 = "AV1"
    MPEG2_VIDEO = "MPEG2_VIDEO"


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    codec: Codec
    description: str
    test_vectors: tuple[Vector, ...]

    @classmethod
    def load(cls, path: Path) -> Suite:
        try:
            data = json.loads(path.read_text())
            vectors = tuple(Vector.from_json(v) for v in data["test_vectors"])
            return cls(data["name"], Codec(data["codec"]), data.get("description", ""), vectors)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SuiteError(f"cannot load suite {path}: {exc}") from exc

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "codec": self.codec.value,
            "description": self.description,
            "test_vectors": [v.to_json() for v in self.test_vectors],
        }

    def resolve(self, stores: list[Path]) -> Suite:
        """The suite with every vector's ``path`` set; raises naming the first missing file."""
        return dataclasses.replace(self, test_vectors=tuple(v.resolve(stores) for v in self.test_vectors))

    def vector(self, name: str) -> Vector:
        for v in self.test_vectors:
            if v.name == name:
                return v
        raise SuiteError(f"suite {self.name} has no vector {name}")


def suites_dir() -> Path:
    return repo_root() / "vectors" / "suites"


def load_suites(directory: Path | None = None, codec: Codec | None = None) -> list[Suite]:
    """Every suite under ``directory`` (default ``vectors/suites``), by file name; optionally one codec's."""
    root = directory or suites_dir()
    suites = [Suite.load(p) for p in sorted(root.glob("**/*.json"))]
    return [s for s in suites if codec is None or s.codec == codec]


def find_vector(name: str, suites: list[Suite]) -> tuple[Suite, Vector]:
    """The vector called ``name`` (``SUITE/NAME`` picks a suite when names clash)."""
    suite_name, _, vector_name = name.rpartition("/")
    hits = [(s, v) for s in suites if not suite_name or s.name == suite_name
            for v in s.test_vectors if v.name == vector_name]  # fmt: skip
    if not hits:
        raise SuiteError(f"no vector {name} in suites {', '.join(s.name for s in suites)}")
    if len(hits) > 1:
        raise SuiteError(f"vector {name} is in several suites ({', '.join(s.name for s, _ in hits)}); "
                         "name it SUITE/NAME")  # fmt: skip
    return hits[0]
