"""Runs inside the guest: conform's device description of c-visl and rust-visl from this
one Python process; prints both as JSON."""

from __future__ import annotations

import json

from conform.drivers import resolve_driver
from conform.probe.describe import describe

print(
    json.dumps({name: describe(resolve_driver(name).connect()).as_json() for name in ("c-visl", "rust-visl")})
)
