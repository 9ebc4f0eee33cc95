"""Where the Linux 6.12 UAPI headers come from.

Debian trixie's ``linux-libc-dev`` of the same version as the ``linux-source-6.12`` the
kernel tier builds, fetched into conform's cache; or any header tree named by
``$CONFORM_UAPI_HEADERS`` (a directory holding ``linux/videodev2.h``).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from conform.debian import DebianSuite, cache_root

HEADERS_SUITE = "trixie"
HEADERS_PACKAGE = "linux-libc-dev"
HEADERS_VERSION = "6.12.117-1"


def include_dirs() -> list[Path]:
    """The include directories to preprocess with: generic UAPI, then the arch's."""
    override = os.environ.get("CONFORM_UAPI_HEADERS")
    if override:
        root = Path(override)
    else:
        dest = cache_root() / "uapi-headers" / HEADERS_VERSION
        DebianSuite(HEADERS_SUITE).unpack(f"{HEADERS_PACKAGE}={HEADERS_VERSION}", dest)
        root = dest / "usr" / "include"
    arch = root / f"{platform.machine()}-linux-gnu"
    return [root, arch] if arch.is_dir() else [root]


def headers_version() -> str:
    return os.environ.get("CONFORM_UAPI_HEADERS") or f"{HEADERS_PACKAGE} {HEADERS_VERSION}"
