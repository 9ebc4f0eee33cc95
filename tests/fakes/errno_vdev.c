/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * errno_vdev: a FAKE vdev library, no driver at all.  It exists only so conform's own
 * tests can check the embedded transport's plumbing: errors come back as OSError with
 * the right errno and call name, arguments and buffers cross the ABI intact.
 *
 * /dev/video0 opens as fd 3; every ioctl fails with ENOTTY after recording its request
 * number, which a read() on fd 3 returns as decimal text; write() on fd 3 stores bytes
 * that the mapping of fd 3 then shows.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "vdev.h"

static unsigned long last_request;
static unsigned char memory[4096];
static int open_count;

int vdev_open(const char *path, int flags)
{
	(void)flags;
	if (strcmp(path, "/dev/video0"))
		return -ENOENT;
	open_count++;
	return 3;
}

int vdev_close(int fd)
{
	if (fd != 3 || !open_count)
		return -EBADF;
	open_count--;
	return 0;
}

int vdev_ioctl(int fd, unsigned long request, void *arg)
{
	(void)arg;
	if (fd != 3)
		return -EBADF;
	last_request = request;
	return -ENOTTY;
}

int vdev_mmap(int fd, int64_t offset, size_t length, int prot, void **addr)
{
	(void)prot;
	if (fd != 3)
		return -EBADF;
	if (offset != 0 || length > sizeof(memory))
		return -EINVAL;
	*addr = memory;
	return 0;
}

int vdev_munmap(void *addr, size_t length)
{
	(void)length;
	return addr == memory ? 0 : -EINVAL;
}

int vdev_poll(struct pollfd *fds, unsigned long nfds, int timeout_ms)
{
	int ready = 0;

	(void)timeout_ms;
	for (unsigned long i = 0; i < nfds; i++) {
		fds[i].revents = fds[i].fd == 3 ? fds[i].events : POLLNVAL;
		ready++;
	}
	return ready;
}

ssize_t vdev_read(int fd, void *buf, size_t count)
{
	char text[32];
	int len;

	if (fd != 3)
		return -EBADF;
	len = snprintf(text, sizeof(text), "%lu", last_request);
	if ((size_t)len > count)
		return -EINVAL;
	memcpy(buf, text, len);
	return len;
}

ssize_t vdev_write(int fd, const void *buf, size_t count)
{
	if (fd != 3)
		return -EBADF;
	if (count > sizeof(memory))
		return -ENOSPC;
	memcpy(memory, buf, count);
	return count;
}

int vdev_reset(void)
{
	return open_count ? -EBUSY : 0;
}
