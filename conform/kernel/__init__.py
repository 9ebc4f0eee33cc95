"""The kernel tier: upstream visl in a small Linux kernel booted under QEMU.

``ensure_kernel()`` builds (once, cached) a kernel from Debian's linux-source with visl
built in; ``run_in_guest(argv)`` boots it with the host's root shared read-only and runs
``argv`` inside, returning its output and status.  ``source_tree()`` is the unpacked
kernel source the build used.
"""

from conform.kernel.build import KernelBuildError, build_info, ensure_kernel, kernel_image
from conform.kernel.qemu import GuestError, GuestRun, GuestTimeout, run_in_guest
from conform.kernel.source import KernelSourceError, SourcePin, source_tree

__all__ = [
    "GuestError",
    "GuestRun",
    "GuestTimeout",
    "KernelBuildError",
    "KernelSourceError",
    "SourcePin",
    "build_info",
    "ensure_kernel",
    "kernel_image",
    "run_in_guest",
    "source_tree",
]
