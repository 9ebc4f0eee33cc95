#!/bin/sh
# PID 1 of the kernel tier's QEMU guest.  The root filesystem is the host's /, shared
# read-only over virtio-9p; the host puts the command to run in cmd.sh on a second,
# writable share (tag "results") and reads stdout, stderr and status back from it.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q " /dev devtmpfs" /proc/mounts || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
# The host's /tmp stays visible (a checkout may live there); scratch space goes to /run/tmp.
mkdir -p /run/tmp
TMPDIR=/run/tmp
export TMPDIR
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mkdir -p /run/conform
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /run/conform

uname -r > /run/conform/release
echo "conform-guest: command starting"
sh /run/conform/cmd.sh > /run/conform/stdout 2> /run/conform/stderr < /dev/null
echo $? > /run/conform/status.tmp
mv /run/conform/status.tmp /run/conform/status
echo "conform-guest: command finished"
sync
umount /run/conform
busybox reboot -f
