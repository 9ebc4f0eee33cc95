#!/bin/sh
# PID 1 of the kernel tier's QEMU guest, started as "/bin/sh guest-init.sh" (init=/bin/sh
# with this path after "--" on the kernel command line).  The root filesystem is the host's
# /, shared read-only over virtio-9p; the host leaves the command in cmd.sh on a second,
# writable share (tag "results") and reads stdout, stderr, status and release back from it.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q " /dev devtmpfs" /proc/mounts || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
# The host's /tmp stays visible, read-only (a checkout, or files a host test hands the
# guest, may live there); writable scratch space is /run/tmp through TMPDIR.
mkdir -p /run/tmp
TMPDIR=/run/tmp
export TMPDIR
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mkdir -p /run/conform
# No cache option: the host reads stdout and stderr while the command still writes them.
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /run/conform; then
    echo "conform-guest: cannot mount the results share"
    busybox reboot -f
fi

uname -r > /run/conform/release
echo "conform-guest: command starting"
sh /run/conform/cmd.sh > /run/conform/stdout 2> /run/conform/stderr < /dev/null
echo $? > /run/conform/status.tmp
# The host takes "status" as the sign the command is over: make it appear whole.
mv /run/conform/status.tmp /run/conform/status
echo "conform-guest: command finished"
sync
umount /run/conform
busybox reboot -f
