/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vdev_shim: an LD_PRELOAD library that turns a vdev driver library (conform/transport/vdev.h)
 * into device nodes for unmodified programs.
 *
 * Every open of a configured node path (say /dev/video0) is answered by vdev_open() of the
 * library's own path for it.  The program gets a real file descriptor, a placeholder: an
 * empty epoll instance, which is never ready by itself, owns a number the kernel will not
 * hand out twice, and keeps the file status flags (F_GETFL/F_SETFL, O_NONBLOCK) of the
 * open file description.  A table maps placeholders to the library's virtual fds; dup()
 * shares the virtual fd, which the library closes when the last placeholder goes.  Request
 * fds from MEDIA_IOC_REQUEST_ALLOC (and dma-buf fds from VIDIOC_EXPBUF) get placeholders
 * too, and fds passed back into ioctls are translated.
 *
 * poll, ppoll, select, pselect and epoll answer virtual fds from vdev_poll() and real fds
 * from the kernel, alternating in short slices while both kinds wait.  A blocking DQBUF or
 * read that the library answers with EAGAIN (it never sleeps: its jobs run inside ioctls)
 * is retried until another thread or process makes progress, as the kernel would sleep.
 *
 * fstat/stat report character devices with the configured major:minor, a directory
 * listing of a node's directory gains the node's name, and the sysfs paths tools use to
 * go from a video node to its media device are redirected into a tree conform writes.
 * libudev walks sysfs with openat() from "/" and checks that it is sysfs, which no path
 * redirect can satisfy: for it, conform runs the program in a mount namespace with that
 * tree overlaid on /sys, and statfs/fstatfs report the overlay under /sys as sysfs.
 *
 * Configuration, from the environment:
 *   CONFORM_SHIM_LIBRARY   path of the vdev library to dlopen();
 *   CONFORM_SHIM_NODES     HOST=LIB[@MAJOR:MINOR] entries separated by ';' (HOST is the
 *                          path programs open, LIB the library's path for it);
 *   CONFORM_SHIM_SYSFS     root of the sysfs tree to redirect to;
 *   CONFORM_SHIM_REDIRECT  path prefixes (';'-separated) redirected into that tree;
 *   CONFORM_SHIM_DEBUG     when set, log every intercepted node call on stderr.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/media.h>
#include <linux/videodev2.h>

#define SHIM_EXPORT __attribute__((visibility("default")))
#define MAX_NODES 16
#define MAX_REDIRECTS 32
#define MAX_MAPS 4096
#define MAX_DIRS 64
#define SLICE_MS 2
/* A number no library hands out as a virtual fd: stands for "not one of the library's". */
#define FOREIGN_FD 0x7fff0000

/* ---- the vdev library ---- */

struct vdev_api {
	int (*open)(const char *path, int flags);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long request, void *arg);
	int (*mmap)(int fd, int64_t offset, size_t length, int prot, void **addr);
	int (*munmap)(void *addr, size_t length);
	int (*poll)(struct pollfd *fds, unsigned long nfds, int timeout_ms);
	ssize_t (*read)(int fd, void *buf, size_t count);
	ssize_t (*write)(int fd, const void *buf, size_t count);
};

/* ---- the C library's own entry points ---- */

struct real_api {
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	FILE *(*fopen)(const char *, const char *);
	FILE *(*fopen64)(const char *, const char *);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*statx)(int, const char *, int, unsigned int, struct statx *);
	int (*faccessat)(int, const char *, int, int);
	ssize_t (*readlinkat)(int, const char *, char *, size_t);
	char *(*realpath)(const char *, char *);
	DIR *(*opendir)(const char *);
	struct dirent *(*readdir)(DIR *);
	struct dirent64 *(*readdir64)(DIR *);
	int (*closedir)(DIR *);
	int (*fstatfs)(int, struct statfs *);
	int (*statfs)(const char *, struct statfs *);
};

struct node {
	char host[PATH_MAX];
	char lib[PATH_MAX];
	char dir[PATH_MAX];      /* directory of host, for listings */
	const char *name;        /* basename of host */
	int major, minor;        /* -1: not a character device */
};

/* One open file description of the library: shared by dup()ed placeholders. */
struct vfile {
	int vfd;
	int refs;
	int node;                /* index in nodes, or -1 for request and dma-buf fds */
};

struct mapping {
	void *addr;
	size_t length;
};

struct dir_state {
	DIR *dir;
	int node_dir;            /* index of the first node whose dir this is */
	unsigned seen;           /* bit per node already listed by the real directory */
	int next;                /* next node to append once the real listing ends */
	struct dirent ent;
	struct dirent64 ent64;
};

static struct real_api real;
static struct vdev_api lib;
static int lib_loaded;
static struct node nodes[MAX_NODES];
static int n_nodes;
static char sysfs_root[PATH_MAX];
static char redirects[MAX_REDIRECTS][PATH_MAX];
static int n_redirects;
static int debug;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static struct vfile **files;  /* indexed by placeholder fd */
static int files_len;
static struct mapping maps[MAX_MAPS];
static struct dir_state dirs[MAX_DIRS];

#define LOG(...) do { if (debug) fprintf(stderr, "vdev_shim: " __VA_ARGS__); } while (0)

/* ---- configuration ---- */

static void resolve_real(void)
{
#define REAL(name) real.name = dlsym(RTLD_NEXT, #name)
	REAL(open); REAL(openat); REAL(fopen); REAL(fopen64); REAL(close); REAL(dup); REAL(dup2);
	REAL(dup3); REAL(fcntl); REAL(ioctl); REAL(mmap); REAL(munmap); REAL(poll); REAL(ppoll);
	REAL(select); REAL(pselect); REAL(epoll_ctl); REAL(epoll_wait); REAL(epoll_pwait);
	REAL(read); REAL(write); REAL(fstatat); REAL(statx); REAL(faccessat); REAL(readlinkat);
	REAL(realpath); REAL(opendir); REAL(readdir); REAL(readdir64); REAL(closedir);
	REAL(fstatfs); REAL(statfs);
#undef REAL
}

static void parse_nodes(const char *spec)
{
	char buf[4096];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *item = strtok_r(buf, ";", &save); item && n_nodes < MAX_NODES;
	     item = strtok_r(NULL, ";", &save)) {
		struct node *n = &nodes[n_nodes];
		char *eq = strchr(item, '=');
		char *at;

		if (!eq)
			continue;
		*eq = '\0';
		at = strchr(eq + 1, '@');
		n->major = n->minor = -1;
		if (at) {
			*at = '\0';
			if (sscanf(at + 1, "%d:%d", &n->major, &n->minor) != 2)
				n->major = n->minor = -1;
		}
		snprintf(n->host, sizeof(n->host), "%s", item);
		snprintf(n->lib, sizeof(n->lib), "%s", eq + 1);
		snprintf(n->dir, sizeof(n->dir), "%s", item);
		char *slash = strrchr(n->dir, '/');
		if (slash && slash != n->dir)
			*slash = '\0';
		else
			snprintf(n->dir, sizeof(n->dir), "/");
		n->name = strrchr(n->host, '/') ? strrchr(n->host, '/') + 1 : n->host;
		n_nodes++;
	}
}

static void configure(void)
{
	const char *env;

	resolve_real();
	debug = getenv("CONFORM_SHIM_DEBUG") != NULL;
	env = getenv("CONFORM_SHIM_NODES");
	parse_nodes(env ? env : "/dev/video0=/dev/video0@81:0;/dev/media0=/dev/media0@254:0");
	env = getenv("CONFORM_SHIM_SYSFS");
	if (env)
		snprintf(sysfs_root, sizeof(sysfs_root), "%s", env);
	env = getenv("CONFORM_SHIM_REDIRECT");
	if (env && sysfs_root[0]) {
		char buf[8192];
		char *save = NULL;

		snprintf(buf, sizeof(buf), "%s", env);
		for (char *p = strtok_r(buf, ";", &save); p && n_redirects < MAX_REDIRECTS;
		     p = strtok_r(NULL, ";", &save))
			snprintf(redirects[n_redirects++], PATH_MAX, "%s", p);
	}
}

static void config(void)
{
	pthread_once(&config_once, configure);
}

static void load_library(void)
{
	const char *path = getenv("CONFORM_SHIM_LIBRARY");
	void *handle;

	if (!path) {
		fprintf(stderr, "vdev_shim: CONFORM_SHIM_LIBRARY is not set\n");
		return;
	}
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		fprintf(stderr, "vdev_shim: %s\n", dlerror());
		return;
	}
#define SYM(name) lib.name = dlsym(handle, "vdev_" #name)
	SYM(open); SYM(close); SYM(ioctl); SYM(mmap); SYM(munmap); SYM(poll); SYM(read); SYM(write);
#undef SYM
	if (!lib.open || !lib.close || !lib.ioctl || !lib.mmap || !lib.munmap || !lib.poll ||
	    !lib.read || !lib.write) {
		fprintf(stderr, "vdev_shim: %s lacks part of the vdev ABI\n", path);
		return;
	}
	lib_loaded = 1;
}

static int library(void)
{
	pthread_once(&lib_once, load_library);
	return lib_loaded;
}

static void before_fork(void) { pthread_mutex_lock(&lock); }
static void after_fork(void) { pthread_mutex_unlock(&lock); }

__attribute__((constructor)) static void shim_init(void)
{
	config();
	pthread_atfork(before_fork, after_fork, after_fork);
}

/* ---- paths ---- */

static int node_of_path(const char *path)
{
	if (!path)
		return -1;
	config();
	for (int i = 0; i < n_nodes; i++)
		if (!strcmp(path, nodes[i].host))
			return i;
	return -1;
}

/* The redirected path into the sysfs tree, or path itself. */
static const char *redirect(const char *path, char *buf)
{
	if (!path || path[0] != '/')
		return path;
	config();
	for (int i = 0; i < n_redirects; i++) {
		size_t len = strlen(redirects[i]);

		if (!strncmp(path, redirects[i], len) && (path[len] == '\0' || path[len] == '/')) {
			snprintf(buf, PATH_MAX, "%s%s", sysfs_root, path);
			return buf;
		}
	}
	return path;
}

/* ---- the placeholder table ---- */

static struct vfile *lookup_locked(int fd)
{
	return fd >= 0 && fd < files_len ? files[fd] : NULL;
}

static struct vfile *lookup(int fd)
{
	struct vfile *f;

	if (fd < 0 || !files)
		return NULL;
	pthread_mutex_lock(&lock);
	f = lookup_locked(fd);
	pthread_mutex_unlock(&lock);
	return f;
}

static int install_locked(int fd, struct vfile *f)
{
	if (fd >= files_len) {
		int len = files_len ? files_len : 256;
		struct vfile **grown;

		while (len <= fd)
			len *= 2;
		grown = realloc(files, len * sizeof(*files));
		if (!grown)
			return -ENOMEM;
		memset(grown + files_len, 0, (len - files_len) * sizeof(*files));
		files = grown;
		files_len = len;
	}
	files[fd] = f;
	f->refs++;
	return 0;
}

static int placeholder(int cloexec)
{
	return epoll_create1(cloexec ? EPOLL_CLOEXEC : 0);
}

/* A placeholder for a new virtual fd of the library; closes vfd on failure. */
static int wrap(int vfd, int node, int flags)
{
	int fd = placeholder(flags & O_CLOEXEC);
	struct vfile *f;

	if (fd < 0 || !(f = calloc(1, sizeof(*f)))) {
		int err = fd < 0 ? errno : ENOMEM;

		if (fd >= 0)
			real.close(fd);
		lib.close(vfd);
		errno = err;
		return -1;
	}
	if (flags & O_NONBLOCK)
		real.fcntl(fd, F_SETFL, O_NONBLOCK);
	f->vfd = vfd;
	f->node = node;
	pthread_mutex_lock(&lock);
	install_locked(fd, f);
	pthread_mutex_unlock(&lock);
	return fd;
}

/* The vfd a program's fd number stands for when passed inside an ioctl argument. */
static int to_virtual(int fd)
{
	struct vfile *f = lookup(fd);

	return f ? f->vfd : fd < 0 ? fd : FOREIGN_FD;
}

/* The program's fd number for a vfd the library reports: any placeholder of it. */
static int to_real(int vfd)
{
	int found = -1;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < files_len && found < 0; i++)
		if (files[i] && files[i]->vfd == vfd)
			found = i;
	pthread_mutex_unlock(&lock);
	return found;
}

static int nonblocking(int fd)
{
	int fl = real.fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

static int set_errno(long ret)
{
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ---- open and close ---- */

static int open_node(int node, int flags)
{
	int vfd;

	if (!library()) {
		errno = ENODEV;
		return -1;
	}
	vfd = lib.open(nodes[node].lib, flags & ~O_CLOEXEC);
	LOG("open %s flags %#x -> %d\n", nodes[node].host, flags, vfd);
	if (vfd < 0)
		return set_errno(vfd);
	return wrap(vfd, node, flags);
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	char buf[PATH_MAX];
	int node = path && (path[0] == '/' || dirfd == AT_FDCWD) ? node_of_path(path) : -1;

	if (node >= 0)
		return open_node(node, flags);
	config();
	return real.openat(dirfd, redirect(path, buf), flags, mode);
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

SHIM_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

SHIM_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags | O_LARGEFILE, mode);
}

SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags | O_LARGEFILE, mode);
}

SHIM_EXPORT int __open_2(const char *path, int flags) { return do_openat(AT_FDCWD, path, flags, 0); }
SHIM_EXPORT int __open64_2(const char *path, int flags) { return do_openat(AT_FDCWD, path, flags, 0); }
SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags) { return do_openat(dirfd, path, flags, 0); }
SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags) { return do_openat(dirfd, path, flags, 0); }

SHIM_EXPORT FILE *fopen(const char *path, const char *mode)
{
	char buf[PATH_MAX];

	config();
	return real.fopen(redirect(path, buf), mode);
}

SHIM_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	char buf[PATH_MAX];

	config();
	return real.fopen64(redirect(path, buf), mode);
}

SHIM_EXPORT int close(int fd)
{
	struct vfile *f = NULL;
	int last = 0;

	config();
	if (fd >= 0 && files) {
		pthread_mutex_lock(&lock);
		f = lookup_locked(fd);
		if (f) {
			files[fd] = NULL;
			last = --f->refs == 0;
		}
		pthread_mutex_unlock(&lock);
	}
	if (f && last) {
		int ret = lib.close(f->vfd);

		LOG("close %d (vfd %d) -> %d\n", fd, f->vfd, ret);
		free(f);
	}
	return real.close(fd);
}

/* ---- dup ---- */

/* After the kernel duplicated placeholder old as new: share old's vfile. */
static int dup_done(int old, int new)
{
	struct vfile *f, *stale = NULL;
	int stale_last = 0;

	if (new < 0)
		return new;
	pthread_mutex_lock(&lock);
	f = lookup_locked(old);
	if (new < files_len && files[new] && files[new] != f) {
		/* dup2 onto a placeholder closed it */
		stale = files[new];
		files[new] = NULL;
		stale_last = --stale->refs == 0;
	}
	if (f && lookup_locked(new) != f)
		install_locked(new, f);
	pthread_mutex_unlock(&lock);
	if (stale && stale_last) {
		lib.close(stale->vfd);
		free(stale);
	}
	return new;
}

SHIM_EXPORT int dup(int old)
{
	config();
	return dup_done(old, real.dup(old));
}

SHIM_EXPORT int dup2(int old, int new)
{
	config();
	if (old == new)
		return real.dup2(old, new);
	return dup_done(old, real.dup2(old, new));
}

SHIM_EXPORT int dup3(int old, int new, int flags)
{
	config();
	return dup_done(old, real.dup3(old, new, flags));
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	config();
	ret = real.fcntl(fd, cmd, arg);
	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && ret >= 0)
		dup_done(fd, ret);
	return ret;
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}

/* ---- ioctl ---- */

static int is_dqbuf(unsigned long request)
{
	return request == VIDIOC_DQBUF;
}

SHIM_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	struct vfile *f;
	int saved = 0, had_fd = 0, ret;
	int *fdp = NULL;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	config();
	f = lookup(fd);
	if (!f)
		return real.ioctl(fd, request, arg);

	/* Request fds travel inside the argument: the library knows its own numbers only. */
	if (arg && (request == VIDIOC_QBUF || request == VIDIOC_PREPARE_BUF ||
		    request == VIDIOC_DQBUF || request == VIDIOC_QUERYBUF)) {
		struct v4l2_buffer *b = arg;

		fdp = &b->request_fd;
		had_fd = request != VIDIOC_DQBUF && request != VIDIOC_QUERYBUF &&
			 (b->flags & V4L2_BUF_FLAG_REQUEST_FD);
	} else if (arg && (request == VIDIOC_G_EXT_CTRLS || request == VIDIOC_S_EXT_CTRLS ||
			   request == VIDIOC_TRY_EXT_CTRLS)) {
		struct v4l2_ext_controls *c = arg;

		fdp = &c->request_fd;
		had_fd = c->which == V4L2_CTRL_WHICH_REQUEST_VAL;
	}
	if (had_fd) {
		saved = *fdp;
		*fdp = to_virtual(saved);
	}

	for (;;) {
		ret = lib.ioctl(f->vfd, request, arg);
		if (!(ret == -EAGAIN && is_dqbuf(request) && !nonblocking(fd)))
			break;
		sleep_ms(1);  /* a blocking DQBUF sleeps until another caller makes progress */
	}
	LOG("ioctl %d (vfd %d) %#lx -> %d\n", fd, f->vfd, request, ret);

	if (had_fd)
		*fdp = saved;
	if (ret >= 0 && arg && fdp && (request == VIDIOC_DQBUF || request == VIDIOC_QUERYBUF) &&
	    (((struct v4l2_buffer *)arg)->flags & V4L2_BUF_FLAG_REQUEST_FD)) {
		int real_fd = to_real(*fdp);

		if (real_fd >= 0)
			*fdp = real_fd;
	}
	if (ret >= 0 && arg && request == MEDIA_IOC_REQUEST_ALLOC) {
		int *out = arg;
		int wrapped = wrap(*out, -1, O_CLOEXEC);

		if (wrapped < 0)
			return -1;
		*out = wrapped;
	}
	if (ret >= 0 && arg && request == VIDIOC_EXPBUF) {
		struct v4l2_exportbuffer *e = arg;
		int wrapped = wrap(e->fd, -1, (int)e->flags);

		if (wrapped < 0)
			return -1;
		e->fd = wrapped;
	}
	return set_errno(ret);
}

/* ---- mmap ---- */

static void *do_mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	struct vfile *f;
	void *out = NULL;
	int ret;

	config();
	f = lookup(fd);
	if (!f)
		return real.mmap(addr, length, prot, flags, fd, offset);
	ret = lib.mmap(f->vfd, offset, length, prot, &out);
	LOG("mmap %d (vfd %d) offset %#llx length %zu -> %d\n", fd, f->vfd, (long long)offset, length, ret);
	if (ret < 0) {
		errno = -ret;
		return MAP_FAILED;
	}
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_MAPS; i++) {
		if (!maps[i].addr) {
			maps[i].addr = out;
			maps[i].length = length;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return out;
}

SHIM_EXPORT void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	return do_mmap(addr, length, prot, flags, fd, offset);
}

SHIM_EXPORT void *mmap64(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	return do_mmap(addr, length, prot, flags, fd, offset);
}

SHIM_EXPORT int munmap(void *addr, size_t length)
{
	int found = 0;

	config();
	if (addr) {
		pthread_mutex_lock(&lock);
		for (int i = 0; i < MAX_MAPS; i++) {
			if (maps[i].addr == addr) {
				maps[i].addr = NULL;
				found = 1;
				break;
			}
		}
		pthread_mutex_unlock(&lock);
	}
	if (found)
		return set_errno(lib.munmap(addr, length));
	return real.munmap(addr, length);
}

/* ---- poll, select, epoll ---- */

/*
 * Poll fds, some of them placeholders, for up to timeout_ms (-1: forever).  Virtual
 * entries are answered by vdev_poll, the others by the kernel, in slices of SLICE_MS.
 * Returns -2 when no entry is virtual (the caller then asks the kernel directly).
 */
static int mixed_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct pollfd stack_v[64], stack_r[64];
	struct pollfd *v = stack_v, *r = stack_r;
	int *vfd_index = NULL, *rfd_index = NULL;
	nfds_t nv = 0, nr = 0;
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int ret = 0;

	for (nfds_t i = 0; i < nfds; i++)
		if (lookup(fds[i].fd))
			nv++;
	if (!nv)
		return -2;
	if (nfds > 64) {
		v = calloc(nfds, sizeof(*v));
		r = calloc(nfds, sizeof(*r));
	}
	vfd_index = calloc(nfds, sizeof(int));
	rfd_index = calloc(nfds, sizeof(int));
	if (!v || !r || !vfd_index || !rfd_index) {
		ret = -1;
		errno = ENOMEM;
		goto out;
	}
	nv = 0;
	for (nfds_t i = 0; i < nfds; i++) {
		struct vfile *f = lookup(fds[i].fd);

		fds[i].revents = 0;
		if (f) {
			v[nv] = (struct pollfd){ f->vfd, fds[i].events, 0 };
			vfd_index[nv++] = (int)i;
		} else {
			r[nr] = fds[i];
			rfd_index[nr++] = (int)i;
		}
	}
	library();
	for (;;) {
		int left = deadline < 0 ? SLICE_MS : (int)(deadline - now_ms());
		int slice = left < 0 ? 0 : left < SLICE_MS ? left : SLICE_MS;
		int got_v = lib.poll(v, nv, 0);
		int got_r;

		if (got_v < 0) {
			ret = set_errno(got_v);
			goto out;
		}
		got_r = nr ? real.poll(r, nr, got_v ? 0 : slice) : 0;
		if (got_r < 0 && errno != EINTR) {
			ret = -1;
			goto out;
		}
		if (got_r < 0)
			got_r = 0;
		if (got_v || got_r) {
			for (nfds_t i = 0; i < nv; i++)
				fds[vfd_index[i]].revents = v[i].revents;
			for (nfds_t i = 0; i < nr; i++)
				fds[rfd_index[i]].revents = r[i].revents;
			ret = got_v + got_r;
			goto out;
		}
		if (deadline >= 0 && now_ms() >= deadline) {
			ret = 0;
			goto out;
		}
		if (!nr)
			sleep_ms(slice ? slice : 1);
	}
out:
	if (v != stack_v)
		free(v);
	if (r != stack_r)
		free(r);
	free(vfd_index);
	free(rfd_index);
	return ret;
}

SHIM_EXPORT int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	int ret;

	config();
	ret = mixed_poll(fds, nfds, timeout);
	return ret == -2 ? real.poll(fds, nfds, timeout) : ret;
}

static int timespec_ms(const struct timespec *ts)
{
	if (!ts)
		return -1;
	long long ms = ts->tv_sec * 1000LL + (ts->tv_nsec + 999999) / 1000000;

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

SHIM_EXPORT int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *ts, const sigset_t *mask)
{
	sigset_t old;
	int ret;

	config();
	if (mask)
		pthread_sigmask(SIG_SETMASK, mask, &old);
	ret = mixed_poll(fds, nfds, timespec_ms(ts));
	if (mask)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret == -2 ? real.ppoll(fds, nfds, ts, mask) : ret;
}

/* select() through mixed_poll: the kernel's POLLIN_SET, POLLOUT_SET and POLLEX_SET. */
static int select_poll(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int timeout_ms)
{
	struct pollfd *fds;
	int n = 0, ret, count = 0, any_virtual = 0;

	for (int fd = 0; fd < nfds; fd++)
		if (((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) || (ex && FD_ISSET(fd, ex))) &&
		    lookup(fd))
			any_virtual = 1;
	if (!any_virtual)
		return -2;
	fds = calloc(nfds ? nfds : 1, sizeof(*fds));
	if (!fds) {
		errno = ENOMEM;
		return -1;
	}
	for (int fd = 0; fd < nfds; fd++) {
		short events = 0;

		if (rd && FD_ISSET(fd, rd))
			events |= POLLIN | POLLRDNORM | POLLRDBAND;
		if (wr && FD_ISSET(fd, wr))
			events |= POLLOUT | POLLWRNORM | POLLWRBAND;
		if (ex && FD_ISSET(fd, ex))
			events |= POLLPRI;
		if (events)
			fds[n++] = (struct pollfd){ fd, events, 0 };
	}
	ret = mixed_poll(fds, n, timeout_ms);
	if (ret < 0) {
		free(fds);
		return ret;
	}
	if (rd)
		FD_ZERO(rd);
	if (wr)
		FD_ZERO(wr);
	if (ex)
		FD_ZERO(ex);
	for (int i = 0; i < n; i++) {
		short got = fds[i].revents;
		short asked = fds[i].events;

		if (got & POLLNVAL) {
			free(fds);
			errno = EBADF;
			return -1;
		}
		if ((asked & POLLIN) && (got & (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR))) {
			FD_SET(fds[i].fd, rd);
			count++;
		}
		if ((asked & POLLOUT) && (got & (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR))) {
			FD_SET(fds[i].fd, wr);
			count++;
		}
		if ((asked & POLLPRI) && (got & POLLPRI)) {
			FD_SET(fds[i].fd, ex);
			count++;
		}
	}
	free(fds);
	return count;
}

SHIM_EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	int ms = tv ? (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000) : -1;
	long long start = now_ms();
	int ret;

	config();
	ret = select_poll(nfds, rd, wr, ex, ms);
	if (ret == -2)
		return real.select(nfds, rd, wr, ex, tv);
	if (tv) {
		long long left = ms - (now_ms() - start);

		if (left < 0)
			left = 0;
		tv->tv_sec = left / 1000;
		tv->tv_usec = (left % 1000) * 1000;
	}
	return ret;
}

SHIM_EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
			const sigset_t *mask)
{
	sigset_t old;
	int ret;

	config();
	if (mask)
		pthread_sigmask(SIG_SETMASK, mask, &old);
	ret = select_poll(nfds, rd, wr, ex, timespec_ms(ts));
	if (mask)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret == -2 ? real.pselect(nfds, rd, wr, ex, ts, mask) : ret;
}

/*
 * epoll: placeholders are registered with the kernel too (they never fire, and the kernel
 * keeps EEXIST/ENOENT right); the shim remembers which (epfd, fd) pairs are virtual.
 */
struct epoll_entry {
	int epfd, fd;
	struct epoll_event event;
};

static struct epoll_entry epoll_entries[1024];

SHIM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	int ret;

	config();
	ret = real.epoll_ctl(epfd, op, fd, event);
	if (ret < 0 || !lookup(fd))
		return ret;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < 1024; i++) {
		struct epoll_entry *e = &epoll_entries[i];

		if (op == EPOLL_CTL_ADD && !e->epfd && !e->fd) {
			*e = (struct epoll_entry){ epfd, fd, *event };
			break;
		}
		if (op != EPOLL_CTL_ADD && e->epfd == epfd && e->fd == fd) {
			if (op == EPOLL_CTL_DEL)
				*e = (struct epoll_entry){ 0, 0, { 0, { 0 } } };
			else
				e->event = *event;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

static int do_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms)
{
	struct pollfd v[64];
	struct epoll_event data[64];
	int nv = 0;
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < 1024 && nv < 64; i++) {
		struct epoll_entry *e = &epoll_entries[i];
		struct vfile *f;

		if ((e->epfd || e->fd) && e->epfd == epfd && (f = lookup_locked(e->fd))) {
			v[nv] = (struct pollfd){ f->vfd, (short)(e->event.events & 0xffff), 0 };
			data[nv++] = e->event;
		}
	}
	pthread_mutex_unlock(&lock);
	if (!nv)
		return -2;
	library();
	for (;;) {
		int left = deadline < 0 ? SLICE_MS : (int)(deadline - now_ms());
		int slice = left < 0 ? 0 : left < SLICE_MS ? left : SLICE_MS;
		int got = lib.poll(v, nv, 0), n = 0;

		if (got < 0)
			return set_errno(got);
		for (int i = 0; i < nv && n < max; i++) {
			if (v[i].revents) {
				events[n].events = (uint32_t)(unsigned short)v[i].revents;
				events[n++].data = data[i].data;
			}
		}
		if (n < max) {
			int r = real.epoll_wait(epfd, events + n, max - n, n ? 0 : slice);

			if (r < 0 && errno != EINTR)
				return r;
			if (r > 0)
				n += r;
		}
		if (n)
			return n;
		if (deadline >= 0 && now_ms() >= deadline)
			return 0;
	}
}

SHIM_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
	int ret;

	config();
	ret = do_epoll_wait(epfd, events, max, timeout);
	return ret == -2 ? real.epoll_wait(epfd, events, max, timeout) : ret;
}

SHIM_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
			    const sigset_t *mask)
{
	sigset_t old;
	int ret;

	config();
	if (mask)
		pthread_sigmask(SIG_SETMASK, mask, &old);
	ret = do_epoll_wait(epfd, events, max, timeout);
	if (mask)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret == -2 ? real.epoll_pwait(epfd, events, max, timeout, mask) : ret;
}

/* ---- read and write ---- */

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t count)
{
	struct vfile *f;
	ssize_t ret;

	config();
	f = lookup(fd);
	if (!f)
		return real.read(fd, buf, count);
	while ((ret = lib.read(f->vfd, buf, count)) == -EAGAIN && !nonblocking(fd))
		sleep_ms(1);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t count)
{
	struct vfile *f;
	ssize_t ret;

	config();
	f = lookup(fd);
	if (!f)
		return real.write(fd, buf, count);
	ret = lib.write(f->vfd, buf, count);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* ---- stat ---- */

static void node_stat(int node, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(0, 5);  /* devtmpfs */
	st->st_ino = 1000 + node;
	st->st_nlink = 1;
	st->st_mode = (nodes[node].major >= 0 ? S_IFCHR : S_IFREG) | 0600;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (nodes[node].major >= 0)
		st->st_rdev = makedev(nodes[node].major, nodes[node].minor);
	st->st_blksize = 4096;
}

static int do_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	char buf[PATH_MAX];
	int node;

	config();
	if ((flags & AT_EMPTY_PATH) && path && !path[0]) {
		struct vfile *f = lookup(dirfd);

		if (f && f->node >= 0) {
			node_stat(f->node, st);
			return 0;
		}
		return real.fstatat(dirfd, path, st, flags);
	}
	node = path && (path[0] == '/' || dirfd == AT_FDCWD) ? node_of_path(path) : -1;
	if (node >= 0) {
		node_stat(node, st);
		return 0;
	}
	return real.fstatat(dirfd, redirect(path, buf), st, flags);
}

SHIM_EXPORT int fstat(int fd, struct stat *st) { return do_fstatat(fd, "", st, AT_EMPTY_PATH); }
/* On x86_64 struct stat64 is struct stat. */
SHIM_EXPORT int fstat64(int fd, struct stat64 *st) { return do_fstatat(fd, "", (struct stat *)st, AT_EMPTY_PATH); }
SHIM_EXPORT int stat(const char *p, struct stat *st) { return do_fstatat(AT_FDCWD, p, st, 0); }
SHIM_EXPORT int stat64(const char *p, struct stat64 *st) { return do_fstatat(AT_FDCWD, p, (struct stat *)st, 0); }
SHIM_EXPORT int lstat(const char *p, struct stat *st)
{
	return do_fstatat(AT_FDCWD, p, st, AT_SYMLINK_NOFOLLOW);
}
SHIM_EXPORT int lstat64(const char *p, struct stat64 *st)
{
	return do_fstatat(AT_FDCWD, p, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}
SHIM_EXPORT int fstatat(int d, const char *p, struct stat *st, int fl) { return do_fstatat(d, p, st, fl); }
SHIM_EXPORT int fstatat64(int d, const char *p, struct stat64 *st, int fl)
{
	return do_fstatat(d, p, (struct stat *)st, fl);
}
#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

/* libudev refuses a /sys that is not sysfs: the overlay conform mounts there passes as one. */
static void sysfs_overlay_type(struct statfs *st, const char *path)
{
	if (st->f_type == OVERLAYFS_SUPER_MAGIC && path && (!strcmp(path, "/sys") || !strncmp(path, "/sys/", 5)))
		st->f_type = SYSFS_MAGIC;
}

SHIM_EXPORT int fstatfs(int fd, struct statfs *st)
{
	char link[64], path[PATH_MAX];
	ssize_t len;
	int ret;

	config();
	ret = real.fstatfs(fd, st);
	if (ret || st->f_type != OVERLAYFS_SUPER_MAGIC)
		return ret;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = real.readlinkat(AT_FDCWD, link, path, sizeof(path) - 1);
	if (len > 0) {
		path[len] = '\0';
		sysfs_overlay_type(st, path);
	}
	return 0;
}
SHIM_EXPORT int fstatfs64(int fd, struct statfs64 *st) { return fstatfs(fd, (struct statfs *)st); }

SHIM_EXPORT int statfs(const char *path, struct statfs *st)
{
	int ret;

	config();
	ret = real.statfs(path, st);
	if (!ret)
		sysfs_overlay_type(st, path);
	return ret;
}
SHIM_EXPORT int statfs64(const char *path, struct statfs64 *st) { return statfs(path, (struct statfs *)st); }

/* The pre-2.33 entry points older binaries call; on x86_64 their struct is struct stat. */
SHIM_EXPORT int __fxstat(int v, int fd, struct stat *st) { (void)v; return fstat(fd, st); }
SHIM_EXPORT int __fxstat64(int v, int fd, struct stat *st) { (void)v; return fstat(fd, st); }
SHIM_EXPORT int __xstat(int v, const char *p, struct stat *st) { (void)v; return stat(p, st); }
SHIM_EXPORT int __xstat64(int v, const char *p, struct stat *st) { (void)v; return stat(p, st); }
SHIM_EXPORT int __lxstat(int v, const char *p, struct stat *st) { (void)v; return lstat(p, st); }
SHIM_EXPORT int __lxstat64(int v, const char *p, struct stat *st) { (void)v; return lstat(p, st); }
SHIM_EXPORT int __fxstatat(int v, int d, const char *p, struct stat *st, int fl)
{
	(void)v;
	return do_fstatat(d, p, st, fl);
}
SHIM_EXPORT int __fxstatat64(int v, int d, const char *p, struct stat *st, int fl)
{
	(void)v;
	return do_fstatat(d, p, st, fl);
}

SHIM_EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	char buf[PATH_MAX];
	struct vfile *f = NULL;
	int node = -1;

	config();
	if ((flags & AT_EMPTY_PATH) && path && !path[0]) {
		f = lookup(dirfd);
		node = f ? f->node : -1;
	} else if (path && (path[0] == '/' || dirfd == AT_FDCWD)) {
		node = node_of_path(path);
	}
	if (node >= 0) {
		struct stat st;

		node_stat(node, &st);
		memset(stx, 0, sizeof(*stx));
		stx->stx_mask = STATX_BASIC_STATS;
		stx->stx_mode = (uint16_t)st.st_mode;
		stx->stx_nlink = 1;
		stx->stx_uid = st.st_uid;
		stx->stx_gid = st.st_gid;
		stx->stx_ino = st.st_ino;
		stx->stx_blksize = 4096;
		stx->stx_rdev_major = major(st.st_rdev);
		stx->stx_rdev_minor = minor(st.st_rdev);
		stx->stx_dev_minor = 5;
		return 0;
	}
	if (f)
		return real.statx(dirfd, path, flags, mask, stx);
	return real.statx(dirfd, redirect(path, buf), flags, mask, stx);
}

SHIM_EXPORT int access(const char *path, int mode)
{
	char buf[PATH_MAX];

	config();
	if (node_of_path(path) >= 0)
		return 0;
	return real.faccessat(AT_FDCWD, redirect(path, buf), mode, 0);
}

SHIM_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	char buf[PATH_MAX];

	config();
	if (path && path[0] == '/' && node_of_path(path) >= 0)
		return 0;
	return real.faccessat(dirfd, redirect(path, buf), mode, flags);
}

SHIM_EXPORT ssize_t readlink(const char *path, char *out, size_t size)
{
	char buf[PATH_MAX];

	config();
	return real.readlinkat(AT_FDCWD, redirect(path, buf), out, size);
}

SHIM_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *out, size_t size)
{
	char buf[PATH_MAX];

	config();
	return real.readlinkat(dirfd, redirect(path, buf), out, size);
}

SHIM_EXPORT char *realpath(const char *path, char *resolved)
{
	char buf[PATH_MAX];

	config();
	if (node_of_path(path) >= 0) {
		if (!resolved && !(resolved = malloc(PATH_MAX)))
			return NULL;
		snprintf(resolved, PATH_MAX, "%s", path);
		return resolved;
	}
	return real.realpath(redirect(path, buf), resolved);
}

/* ---- directories ---- */

SHIM_EXPORT DIR *opendir(const char *path)
{
	char buf[PATH_MAX];
	DIR *dir;
	int first = -1;

	config();
	dir = real.opendir(redirect(path, buf));
	if (!dir || !path)
		return dir;
	for (int i = 0; i < n_nodes && first < 0; i++)
		if (!strcmp(path, nodes[i].dir))
			first = i;
	if (first < 0)
		return dir;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_DIRS; i++) {
		if (!dirs[i].dir) {
			memset(&dirs[i], 0, sizeof(dirs[i]));
			dirs[i].dir = dir;
			dirs[i].node_dir = first;
			dirs[i].next = first;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return dir;
}

static struct dir_state *dir_state(DIR *dir)
{
	for (int i = 0; i < MAX_DIRS; i++)
		if (dirs[i].dir == dir)
			return &dirs[i];
	return NULL;
}

/* The next node of this directory the real listing did not show, or -1. */
static int next_extra(struct dir_state *d)
{
	const char *dir = nodes[d->node_dir].dir;

	while (d->next < n_nodes) {
		int i = d->next++;

		if (!strcmp(nodes[i].dir, dir) && !(d->seen & (1u << i)))
			return i;
	}
	return -1;
}

static void note_seen(struct dir_state *d, const char *name)
{
	for (int i = 0; i < n_nodes; i++)
		if (!strcmp(nodes[i].name, name) && !strcmp(nodes[i].dir, nodes[d->node_dir].dir))
			d->seen |= 1u << i;
}

SHIM_EXPORT struct dirent *readdir(DIR *dir)
{
	struct dirent *ent;
	struct dir_state *d;
	int extra;

	config();
	ent = real.readdir(dir);
	pthread_mutex_lock(&lock);
	d = dir_state(dir);
	if (d && ent)
		note_seen(d, ent->d_name);
	if (!d || ent || (extra = next_extra(d)) < 0) {
		pthread_mutex_unlock(&lock);
		return ent;
	}
	memset(&d->ent, 0, sizeof(d->ent));
	d->ent.d_ino = 1000 + extra;
	d->ent.d_type = nodes[extra].major >= 0 ? DT_CHR : DT_REG;
	d->ent.d_reclen = sizeof(d->ent);
	snprintf(d->ent.d_name, sizeof(d->ent.d_name), "%s", nodes[extra].name);
	pthread_mutex_unlock(&lock);
	return &d->ent;
}

SHIM_EXPORT struct dirent64 *readdir64(DIR *dir)
{
	struct dirent64 *ent;
	struct dir_state *d;
	int extra;

	config();
	ent = real.readdir64(dir);
	pthread_mutex_lock(&lock);
	d = dir_state(dir);
	if (d && ent)
		note_seen(d, ent->d_name);
	if (!d || ent || (extra = next_extra(d)) < 0) {
		pthread_mutex_unlock(&lock);
		return ent;
	}
	memset(&d->ent64, 0, sizeof(d->ent64));
	d->ent64.d_ino = 1000 + extra;
	d->ent64.d_type = nodes[extra].major >= 0 ? DT_CHR : DT_REG;
	d->ent64.d_reclen = sizeof(d->ent64);
	snprintf(d->ent64.d_name, sizeof(d->ent64.d_name), "%s", nodes[extra].name);
	pthread_mutex_unlock(&lock);
	return &d->ent64;
}

SHIM_EXPORT int closedir(DIR *dir)
{
	struct dir_state *d;

	config();
	pthread_mutex_lock(&lock);
	d = dir_state(dir);
	if (d)
		d->dir = NULL;
	pthread_mutex_unlock(&lock);
	return real.closedir(dir);
}
