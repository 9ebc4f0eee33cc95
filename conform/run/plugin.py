"""conform's pytest plugin: the markers conform's own tests and suite runs share."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kernel: needs the kernel tier (upstream visl in a QEMU guest); fails, never skips, "
        "when it cannot be had",
    )
