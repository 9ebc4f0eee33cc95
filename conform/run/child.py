"""One item in its own process: ``python -m conform.run.child DRIVER ITEM_JSON OUT``.

The parent (conform/run/runner.py) gives every item a process of its own, so a driver
that crashes or hangs takes down that item only; the child writes the record itself when
the item ends normally.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from conform.errors import ConformError
from conform.report.pictures import frames_dir
from conform.run.items import PARAM_SETS, Item, Kind, probe_catalogue
from conform.run.record import Record, Status, write_json_atomic


def environment(driver: str, item: Item) -> dict[str, Any]:
    env: dict[str, Any] = {"params": PARAM_SETS[item.params].as_dict()}
    if os.path.exists("/proc/sys/kernel/osrelease"):
        env["kernel"] = Path("/proc/sys/kernel/osrelease").read_text().strip()
    from conform.drivers import in_guest

    env["where"] = "kernel-tier guest" if in_guest() else "host"
    return env


def execute(driver: str, item: Item, frames: Path | None = None) -> Record:
    """Run ``item`` on ``driver`` in this process."""
    from conform.drivers import resolve_driver

    started = time.monotonic()
    if driver == "rust-visl":
        os.environ["RUST_VISL_PARAMS"] = " ".join(f"{k}={v}" for k, v in PARAM_SETS[item.params].values)
    nodes = resolve_driver(driver).connect()
    env = environment(driver, item)
    try:
        if item.kind is Kind.PROBE:
            probe = probe_catalogue()[item.target][0]
            evidence: Any = [[name, outcome] for name, outcome in probe(nodes)]
            status, error = Status.OK, None
        else:
            from conform.run.decode import decode_vector

            evidence, status, error = decode_vector(nodes, item, frames)
    except ConformError as exc:
        return Record(item, driver, Status.FAILED, None, str(exc), time.monotonic() - started, env)
    return Record(item, driver, status, evidence, error, time.monotonic() - started, env)


def main(argv: list[str]) -> int:
    driver, item_json, out = argv
    item = Item.from_json(json.loads(item_json))
    # out is <run>/records/<driver>/<item>.json; frames go to <run>/frames/<driver>/<item>/.
    run_dir = Path(out).resolve().parents[2]
    record = execute(driver, item, frames_dir(run_dir, driver, item.name))
    write_json_atomic(Path(out), record.as_json())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
