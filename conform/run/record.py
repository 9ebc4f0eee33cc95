"""Result records: one JSON file per finished item, written the moment it finishes.

A run directory holds ``records/<driver>/<item>.json``; a record is written to a
temporary name and renamed, so a killed run leaves only whole records, and ``--resume``
skips every item that has one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from conform.run.items import Item


class Status(Enum):
    OK = "ok"
    FAILED = "failed"
    """The item ran to its end but a step failed (an error the driver returned, a session that broke)."""
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    NOT_SUPPORTED = "not-supported"


@dataclass(frozen=True, slots=True)
class Record:
    item: Item
    driver: str
    status: Status
    evidence: Any = None
    """What parity compares: a probe's case list, a vector's frames and trace."""
    error: str | None = None
    duration_s: float = 0.0
    environment: dict[str, Any] = field(default_factory=dict)
    """Kernel release, module parameters, conform commit: where the evidence came from."""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.item.name,
            "item": self.item.as_json(),
            "driver": self.driver,
            "status": self.status.value,
            "evidence": self.evidence,
            "error": self.error,
            "duration_s": round(self.duration_s, 3),
            "environment": self.environment,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        return cls(
            Item.from_json(data["item"]),
            data["driver"],
            Status(data["status"]),
            data.get("evidence"),
            data.get("error"),
            data.get("duration_s", 0.0),
            data.get("environment", {}),
        )


def safe_name(name: str) -> str:
    """An item name as a file name."""
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", name)


def driver_dir_name(driver: str) -> str:
    return safe_name(driver.replace("/", "_"))


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, sort_keys=True)
        out.write("\n")
    os.replace(tmp, path)


@dataclass(frozen=True, slots=True)
class RunDir:
    """``reports/<run-id>/``: records per driver, then the reports rendered from them."""

    path: Path

    def record_path(self, driver: str, item: Item) -> Path:
        return self.path / "records" / driver_dir_name(driver) / f"{safe_name(item.name)}.json"

    def write(self, record: Record) -> Path:
        path = self.record_path(record.driver, record.item)
        write_json_atomic(path, record.as_json())
        return path

    def read(self, driver: str, item: Item) -> Record | None:
        path = self.record_path(driver, item)
        if not path.is_file():
            return None
        return Record.from_json(json.loads(path.read_text()))

    def records(self, driver: str) -> list[Record]:
        folder = self.path / "records" / driver_dir_name(driver)
        return [Record.from_json(json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]

    def drivers(self) -> list[str]:
        folder = self.path / "records"
        if not folder.is_dir():
            return []
        found = set()
        for path in folder.glob("*/*.json"):
            found.add(json.loads(path.read_text())["driver"])
        return sorted(found)
