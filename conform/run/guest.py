"""c-visl items inside the kernel tier: one guest boot per module-parameter set, records
streamed back line by line and written on the host as they arrive."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from conform.errors import ConformError
from conform.run.items import PARAM_SETS, Item, Kind
from conform.run.record import Record, RunDir

RECORD_PREFIX = "CONFORM-RECORD "


class GuestRunError(ConformError):
    """The guest run of a parameter set did not complete: which set, and how it ended."""


def emit(record: Record) -> None:
    """Inside the guest: hand one finished record to the host."""
    # Its own line: pytest may have left a progress character on the current one.
    sys.stdout.write("\n" + RECORD_PREFIX + json.dumps(record.as_json(), sort_keys=True) + "\n")
    sys.stdout.flush()


def run_in_kernel_tier(
    run_dir: RunDir, items: Sequence[Item], pytest_args: Sequence[str], timeout: float
) -> None:
    """Run ``items`` on c-visl, a guest boot per parameter set, writing each record on arrival."""
    from conform.kernel import run_in_guest

    for params in sorted({item.params for item in items}):
        names = ",".join(sorted({i.target for i in items if i.params == params and i.kind is Kind.PROBE}))
        buffer = ""

        def on_output(stream: str, text: str) -> None:
            nonlocal buffer
            if stream != "stdout":
                sys.stderr.write(text)
                return
            buffer += text
            *lines, buffer = buffer.split("\n")
            for line in lines:
                start = line.find(RECORD_PREFIX)
                if start >= 0:
                    record = Record.from_json(json.loads(line[start + len(RECORD_PREFIX) :]))
                    run_dir.write(record)
                    print(f"  c-visl {record.item.name} ... {record.status.value}", flush=True)

        argv = [
            sys.executable,
            "-m",
            "conform",
            "run",
            "--driver",
            "c-visl",
            "--in-guest-batch",
            params,
            "--probes",
            names or "none",
            *pytest_args,
        ]
        run = run_in_guest(argv, params=PARAM_SETS[params].as_dict(), timeout=timeout, on_output=on_output)
        if run.oops:
            raise GuestRunError(
                f"parameter set {params}: the guest kernel oopsed; console tail:\n{run.console[-2000:]}"
            )
        if run.returncode not in (0, 1):
            raise GuestRunError(
                f"parameter set {params}: guest run exit {run.returncode}\n"
                f"{run.stdout[-1500:]}{run.stderr[-1500:]}"
            )
