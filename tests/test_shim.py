"""The device-node shim on rust-visl, without the guest: node semantics and v4l2-compliance 1.22.

CI runs these on every machine, so the shim (conform/shim/vdev_shim.c) is exercised even
where the kernel tier cannot boot.
"""

from __future__ import annotations

import json
import select
import shutil
import sys
import textwrap

import pytest

from conform import shim
from conform.probe import compliance

# What a program sees of the nodes through the shim: stat, listings, sysfs, ioctl, dup, poll.
NODE_SCRIPT = textwrap.dedent(
    """
    import fcntl, json, os, select, stat
    out = {}
    fd = os.open("/dev/video0", os.O_RDWR)
    st = os.fstat(fd)
    out["chr"] = stat.S_ISCHR(st.st_mode)
    out["rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
    out["stat_rdev"] = [os.major(os.stat("/dev/video0").st_rdev), os.minor(os.stat("/dev/video0").st_rdev)]
    cap = bytearray(104)
    fcntl.ioctl(fd, 0x80685600, cap)  # VIDIOC_QUERYCAP
    out["driver"] = bytes(cap[:16]).rstrip(b"\\0").decode()
    dup = os.dup(fd)
    os.close(fd)
    cap2 = bytearray(104)
    fcntl.ioctl(dup, 0x80685600, cap2)
    out["dup_driver"] = bytes(cap2[:16]).rstrip(b"\\0").decode()
    p = select.poll()
    p.register(dup, select.POLLIN | select.POLLOUT)
    out["poll"] = p.poll(10)
    out["select"] = [len(s) for s in select.select([dup], [dup], [dup], 0.01)]
    os.close(dup)
    out["dev_listing"] = sorted(n for n in os.listdir("/dev") if n in ("video0", "media0"))
    out["uevent"] = open("/sys/dev/char/81:0/uevent").read()
    out["media_in_device"] = "media0" in os.listdir("/sys/dev/char/81:0/device")
    m = os.open("/dev/media0", os.O_RDWR)
    mst = os.fstat(m)
    out["media_rdev"] = [os.major(mst.st_rdev), os.minor(mst.st_rdev)]
    req = bytearray(4)
    fcntl.ioctl(m, 0x80047C05, req)  # MEDIA_IOC_REQUEST_ALLOC
    rfd = int.from_bytes(req, "little")
    p = select.poll()
    p.register(rfd, select.POLLPRI)
    out["request_poll"] = [ev for _, ev in p.poll(0)]
    out["request_fd_is_real"] = os.fstat(rfd) is not None
    os.close(rfd)
    os.close(m)
    print(json.dumps(out))
    """
)


def test_node_semantics() -> None:
    done = shim.run([sys.executable, "-c", NODE_SCRIPT], capture=True, timeout=120)
    assert done.returncode == 0, done.stdout
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["chr"] and out["rdev"] == [81, 0] and out["stat_rdev"] == [81, 0]
    assert out["driver"] == "visl" and out["dup_driver"] == "visl"
    assert out["dev_listing"] == ["media0", "video0"]
    assert out["uevent"] == "MAJOR=81\nMINOR=0\nDEVNAME=video0\n"
    assert out["media_in_device"]
    assert out["media_rdev"] == [shim.MEDIA_MAJOR, 0]
    # As the kernel's media_request_poll: a request neither queued nor complete is POLLERR.
    assert out["request_poll"] == [select.POLLERR]
    # Not streaming: vb2 answers POLLERR; select() counts that as readable and writable.
    assert [ev for _, ev in out["poll"]] == [select.POLLERR] and out["select"] == [1, 1, 0]


# The checks that go through every part of the shim: opens, dup-free multiple opens, sysfs
# discovery of the media device, ioctls, the forked blocking DQBUF, mmap, select and epoll.
BASIC_CHECKS = (
    ("Required ioctls", "MC information (see 'Media Driver Info' above)"),
    ("Required ioctls", "VIDIOC_QUERYCAP"),
    ("Required ioctls", "invalid ioctls"),
    ("Allow for multiple opens", "second /dev/video0 open"),
    ("Allow for multiple opens", "VIDIOC_QUERYCAP"),
    ("Allow for multiple opens", "for unlimited opens"),
    ("Control ioctls", "VIDIOC_G/S/TRY_EXT_CTRLS"),
    ("Streaming ioctls", "blocking wait"),
    ("Streaming ioctls", "MMAP (no poll)"),
    ("Streaming ioctls", "MMAP (select)"),
    ("Streaming ioctls", "MMAP (epoll)"),
)


@pytest.mark.skipif(shutil.which("v4l2-compliance") is None, reason="v4l-utils is not installed")
def test_v4l2_compliance_1_22_basic_checks() -> None:
    done = shim.run(compliance.command("1.22", *compliance.OPTION_SETS["stream"]), capture=True, timeout=300)
    report = compliance.parse(done.stdout)
    results = {(c.section, c.name): c for c in report.checks}
    failed = [f"{s} | {n}: {results[(s, n)].result if (s, n) in results else '(missing)'}"
              for s, n in BASIC_CHECKS
              if (s, n) not in results or results[(s, n)].status is not compliance.Status.OK]  # fmt: skip
    assert not failed, "\n".join(failed) + "\n\n" + done.stdout[-4000:]
    assert report.totals[-1].checks == 53
