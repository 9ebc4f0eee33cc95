"""Runs inside the guest: one probe's cases on c-visl (kernel) and rust-visl (embedded),
both from this one Python process; prints the two case lists as JSON.

Usage: parity.py buffers|commands|describe|formats|hostile|params
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

from conform.drivers import Nodes, resolve_driver
from conform.probe import buffers, commands, formats, hostile, params
from conform.probe.describe import describe


def description(nodes: Nodes) -> Iterable[tuple[str, Any]]:
    return describe(nodes).as_json().items()


PROBES: dict[str, Callable[[Nodes], Iterable[tuple[str, Any]]]] = {
    "buffers": buffers.cases,
    "commands": commands.cases,
    "formats": formats.cases,
    "hostile": hostile.cases,
    "params": params.cases,
    "describe": description,
}

probe = PROBES[sys.argv[1]]
print(json.dumps({name: list(probe(resolve_driver(name).connect())) for name in ("c-visl", "rust-visl")}))
