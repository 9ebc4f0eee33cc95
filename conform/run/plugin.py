"""conform's pytest plugin: options shared by conform's own tests and suite runs."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conform")
    group.addoption(
        "--conform-driver",
        default=None,
        help="driver under test: c-visl, kernel:/dev/videoN (default: the item's own choice)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kernel: needs the kernel tier (upstream visl in a QEMU guest); fails, never skips, "
        "when it cannot be had",
    )
