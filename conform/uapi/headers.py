"""Where the Linux 6.12 UAPI headers come from.

Debian trixie's ``linux-libc-dev`` of the same version as the ``linux-source-6.12`` the
kernel tier builds, fetched into conform's cache; or any header tree named by
``$CONFORM_UAPI_HEADERS`` (a directory holding ``linux/videodev2.h``).
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

from conform.debian import DebianSuite, cache_root
from conform.errors import ConformError

HEADERS_SUITE = "trixie"
HEADERS_PACKAGE = "linux-libc-dev"
# The one place the header version is pinned; the kernel tier builds the same 6.12.
HEADERS_VERSION = "6.12.117-1"
OVERRIDE_ENV = "CONFORM_UAPI_HEADERS"

# The headers whose declarations and macros conform exposes.  v4l2-common.h is listed
# because videodev2.h includes it and the selection rectangles' V4L2_SEL_* live there.
TOP_HEADERS = ("linux/videodev2.h", "linux/v4l2-controls.h", "linux/v4l2-common.h", "linux/media.h",
               "linux/dma-buf.h")


class UapiHeadersError(ConformError):
    """The UAPI header tree is missing or not the shape conform expects."""


def _override() -> Path | None:
    value = os.environ.get(OVERRIDE_ENV)
    if not value:
        return None
    root = Path(value)
    if not (root / "linux" / "videodev2.h").is_file():
        raise UapiHeadersError(f"${OVERRIDE_ENV}={value} holds no linux/videodev2.h")
    return root


def include_dirs() -> list[Path]:
    """The include directories to preprocess with: generic UAPI, then the arch's (asm/)."""
    root = _override()
    if root is None:
        dest = cache_root() / "uapi-headers" / HEADERS_VERSION
        DebianSuite(HEADERS_SUITE).unpack(f"{HEADERS_PACKAGE}={HEADERS_VERSION}", dest)
        root = dest / "usr" / "include"
    arch = root / f"{platform.machine()}-linux-gnu"
    return [root, arch] if arch.is_dir() else [root]


def headers_version() -> str:
    """What the declarations were generated from, for people: a package version or a path."""
    root = _override()
    return f"{HEADERS_PACKAGE} {HEADERS_VERSION}" if root is None else str(root)


def cache_tag() -> str:
    """The cache folder name for the headers in use; it must not need the headers themselves.

    The pinned package can't change under a version, so its version is the tag (and the
    kernel tier's read-only guest never has to look for the .deb).  An override tree can
    be edited in place, so its tag is a digest of its path and its headers' contents.
    """
    root = _override()
    if root is None:
        return HEADERS_VERSION
    digest = hashlib.sha256(str(root.resolve()).encode())
    for header in TOP_HEADERS:
        path = root / header
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return f"local-{digest.hexdigest()[:16]}"
