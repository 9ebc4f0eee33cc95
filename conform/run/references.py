"""References: records of upstream visl (c-visl) committed under ``vectors/references/``.

``conform references record`` writes them from a c-visl run; each file is the record with
its provenance (kernel release, module parameters, the command and conform commit that
made it), and only that command refreshes them.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conform.run.items import Item
from conform.run.record import Record, safe_name

REFERENCES = Path(__file__).resolve().parents[2] / "vectors" / "references"


def reference_path(folder: Path, item: Item) -> Path:
    """Compressed: the probe references hold tens of thousands of cases."""
    return folder / f"{safe_name(item.name)}.json.gz"


def commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(REFERENCES.parent), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def write(folder: Path, record: Record, command: str) -> Path:
    data: dict[str, Any] = record.as_json()
    data["provenance"] = {
        "command": command,
        "conform_commit": commit(),
        "recorded": datetime.now(UTC).strftime("%Y-%m-%d"),
        "kernel": record.environment.get("kernel", "unknown"),
        "params": record.environment.get("params", {}),
    }
    path = reference_path(folder, record.item)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # mtime 0 keeps the file identical when the evidence is.
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(json.dumps(data, sort_keys=True).encode())
    tmp.replace(path)
    return path


def read(folder: Path, item: Item) -> Record | None:
    path = reference_path(folder, item)
    if not path.is_file():
        return None
    return Record.from_json(json.loads(gzip.decompress(path.read_bytes())))


def read_all(folder: Path) -> list[Record]:
    return [
        Record.from_json(json.loads(gzip.decompress(p.read_bytes())))
        for p in sorted(folder.glob("*.json.gz"))
    ]
