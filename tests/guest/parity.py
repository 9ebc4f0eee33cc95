"""Runs inside the guest: one probe's cases on c-visl (kernel) and rust-visl (embedded),
both from this one Python process; prints the two case lists as JSON.

Usage: parity.py buffers|commands|decode|decode-dumps|describe|formats|hostile|params|streaming
       [--drivers A,B]

c-visl's module parameters are on the kernel command line (``visl.name=value``); they are
handed to rust-visl as RUST_VISL_PARAMS before it first probes, so both drivers run with
the same ones.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from conform.drivers import Nodes, resolve_driver
from conform.probe import buffers, commands, decode, formats, hostile, params, streaming
from conform.probe.describe import describe


def description(nodes: Nodes) -> Iterable[tuple[str, Any]]:
    return describe(nodes).as_json().items()


PROBES: dict[str, Callable[[Nodes], Iterable[tuple[str, Any]]]] = {
    "buffers": buffers.cases,
    "commands": commands.cases,
    "decode": decode.cases,
    "decode-dumps": decode.dump_cases,
    "formats": formats.cases,
    "hostile": hostile.cases,
    "params": params.cases,
    "streaming": streaming.cases,
    "describe": description,
}

probe = PROBES[sys.argv[1]]
drivers = ("c-visl", "rust-visl")
if len(sys.argv) > 3 and sys.argv[2] == "--drivers":
    drivers = tuple(sys.argv[3].split(","))
os.environ["RUST_VISL_PARAMS"] = decode.rust_visl_params(Path("/proc/cmdline").read_text())
print(json.dumps({name: list(probe(resolve_driver(name).connect())) for name in drivers}))
