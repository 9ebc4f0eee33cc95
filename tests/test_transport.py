"""Transports: errors and data cross both implementations intact.

The embedded side is exercised with tests/fakes/errno_vdev.c, a fake library that exists
only to test conform's own error plumbing; real drivers are tested in the kernel tier.
"""

from __future__ import annotations

import errno
import os
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from conform.transport import (
    POLLIN,
    EmbeddedLibraryError,
    EmbeddedTransport,
    KernelTransport,
    TransportError,
)
from conform.uapi import C, ffi

FAKES = Path(__file__).parent / "fakes"


def build_library(tmp: Path, source: str, name: str) -> Path:
    header_dir = resources.files("conform.transport")
    out = tmp / name
    cmd = ["gcc", "-shared", "-fPIC", "-Wall", "-Werror", f"-I{header_dir}", "-o", str(out), "-x", "c", "-"]
    subprocess.run(cmd, input=source, text=True, check=True)
    return out


@pytest.fixture(scope="module")
def errno_vdev(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedTransport:
    lib = build_library(
        tmp_path_factory.mktemp("vdev"), (FAKES / "errno_vdev.c").read_text(), "errno_vdev.so"
    )
    return EmbeddedTransport(lib)


def test_embedded_ioctl_error_names_the_ioctl(errno_vdev: EmbeddedTransport) -> None:
    fd = errno_vdev.open("/dev/video0")
    cap = ffi.new("struct v4l2_capability *")
    with pytest.raises(TransportError) as info:
        errno_vdev.ioctl(fd, C.VIDIOC_QUERYCAP, cap)
    assert info.value.errno == errno.ENOTTY
    assert info.value.call == "VIDIOC_QUERYCAP"
    assert "VIDIOC_QUERYCAP" in str(info.value) and "ENOTTY" in str(info.value)
    # The request number arrived unchanged on the library's side.
    assert int(errno_vdev.read(fd, 32)) == C.VIDIOC_QUERYCAP
    errno_vdev.close(fd)


def test_embedded_open_and_close_errors(errno_vdev: EmbeddedTransport) -> None:
    with pytest.raises(TransportError) as info:
        errno_vdev.open("/dev/video9")
    assert info.value.errno == errno.ENOENT and "/dev/video9" in str(info.value)
    with pytest.raises(TransportError) as closed:
        errno_vdev.close(42)
    assert closed.value.errno == errno.EBADF


def test_embedded_mmap_shows_written_bytes(errno_vdev: EmbeddedTransport) -> None:
    fd = errno_vdev.open("/dev/video0")
    errno_vdev.write(fd, b"conform")
    mapping = errno_vdev.mmap(fd, 0, 4096)
    assert bytes(mapping.view[:7]) == b"conform"
    errno_vdev.munmap(mapping)
    with pytest.raises(TransportError) as info:
        errno_vdev.mmap(fd, 0, 1 << 20)
    assert info.value.errno == errno.EINVAL and info.value.call == "mmap"
    assert [(r.fd, r.revents) for r in errno_vdev.poll([(fd, POLLIN)], 0)] == [(fd, POLLIN)]
    with pytest.raises(TransportError) as busy:
        errno_vdev.reset()
    assert busy.value.errno == errno.EBUSY
    errno_vdev.close(fd)
    errno_vdev.reset()


def test_embedded_library_missing_exports(tmp_path: Path) -> None:
    lib = build_library(tmp_path, "int vdev_open(const char *p, int f) { return -2; }\n", "partial.so")
    with pytest.raises(EmbeddedLibraryError, match="vdev_ioctl"):
        EmbeddedTransport(lib)
    with pytest.raises(EmbeddedLibraryError, match="does not exist"):
        EmbeddedTransport(tmp_path / "absent.so")


def test_kernel_transport_ioctl_error_on_a_real_fd() -> None:
    """A V4L2 ioctl on a pipe fails with ENOTTY from the real kernel, named as such."""
    kernel = KernelTransport()
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(TransportError) as info:
            kernel.ioctl(read_end, C.VIDIOC_QUERYCAP, ffi.new("struct v4l2_capability *"))
        assert info.value.errno == errno.ENOTTY and info.value.call == "VIDIOC_QUERYCAP"
        os.write(write_end, b"x")
        assert kernel.poll([(read_end, POLLIN)], 1000)[0].revents & POLLIN
        assert kernel.read(read_end, 4) == b"x"
    finally:
        os.close(read_end)
        os.close(write_end)
