/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vdev: the syscall-shaped C ABI of an embedded V4L2 driver library.
 *
 * A driver library (rust-visl's cdylib, or any other) exports these functions so that
 * conform, an LD_PRELOAD shim or a fuzz harness can drive it exactly as a program drives
 * real device nodes.  This header is the single source of truth: conform reads it for
 * its cffi declarations and the library's exports are checked against it.
 *
 * Conventions:
 *  - every function returns a value >= 0 on success or -errno on failure;
 *  - file descriptors are virtual, numbered by the library; request fds returned by
 *    MEDIA_IOC_REQUEST_ALLOC are virtual fds of the same library;
 *  - paths follow the kernel's: /dev/video0, /dev/media0,
 *    /sys/module/<driver>/parameters/<name> (text, as sysfs),
 *    /sys/kernel/tracing/trace_pipe (the driver's trace events, "event: payload"),
 *    /sys/kernel/debug/<driver>/... (debugfs files);
 *  - struct pollfd and the ioctl argument structs are the kernel UAPI's, unchanged.
 */
#ifndef VDEV_H
#define VDEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pollfd;

int     vdev_open(const char *path, int flags);
int     vdev_close(int fd);
int     vdev_ioctl(int fd, unsigned long request, void *arg);
/* On success stores the mapping's address in *addr and returns 0. */
int     vdev_mmap(int fd, int64_t offset, size_t length, int prot, void **addr);
int     vdev_munmap(void *addr, size_t length);
/* Returns the number of entries with non-zero revents, 0 on timeout. */
int     vdev_poll(struct pollfd *fds, unsigned long nfds, int timeout_ms);
ssize_t vdev_read(int fd, void *buf, size_t count);
ssize_t vdev_write(int fd, const void *buf, size_t count);
/* Like unbinding and re-probing the driver; -EBUSY while fds are open. */
int     vdev_reset(void);

#endif /* VDEV_H */
