"""Runs inside the guest: the hostile control corpus on c-visl (kernel) and rust-visl
(embedded) from this one Python process; prints both outcome lists as JSON."""

from __future__ import annotations

import json

from conform.drivers import resolve_driver
from conform.probe.hostile import cases

print(json.dumps({name: list(cases(resolve_driver(name).connect())) for name in ("c-visl", "rust-visl")}))
