"""Runs inside the guest: the format matrix on c-visl (kernel) and rust-visl (embedded),
both from this one Python process; prints the two case lists as JSON."""

from __future__ import annotations

import json

from conform.drivers import resolve_driver
from conform.probe.formats import cases

print(json.dumps({name: list(cases(resolve_driver(name).connect())) for name in ("c-visl", "rust-visl")}))
