"""Running one item in a child process, and turning crashes and hangs into records."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from conform.run.child import environment
from conform.run.items import Item
from conform.run.record import Record, RunDir, Status

DEFAULT_TIMEOUT_S = 600.0


def run_item(run_dir: RunDir, driver: str, item: Item, timeout_s: float = DEFAULT_TIMEOUT_S) -> Record:
    """Execute ``item`` on ``driver`` in a child process; the record is on disk when this returns."""
    out = run_dir.record_path(driver, item)
    out.unlink(missing_ok=True)
    started = time.monotonic()
    cmd = [sys.executable, "-m", "conform.run.child", driver, item.dumps(), str(out)]
    try:
        done = subprocess.run(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired as exc:
        tail = (exc.stderr or b"")[-2000:]
        text = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
        record = Record(
            item,
            driver,
            Status.TIMEOUT,
            None,
            f"no result within {timeout_s:g} s\n{text}",
            time.monotonic() - started,
            environment(driver, item),
        )
        run_dir.write(record)
        return record
    if out.is_file():
        return Record.from_json(json.loads(out.read_text()))
    how = (
        f"killed by {signal.Signals(-done.returncode).name}"
        if done.returncode < 0
        else f"exit {done.returncode}"
    )
    record = Record(
        item,
        driver,
        Status.CRASHED,
        None,
        f"{how}\n{done.stderr[-4000:]}",
        time.monotonic() - started,
        environment(driver, item),
    )
    run_dir.write(record)
    return record


def has_record(run_dir: RunDir, driver: str, item: Item) -> bool:
    path: Path = run_dir.record_path(driver, item)
    return path.is_file()
