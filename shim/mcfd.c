/* mcfd.c - the shim's memcached sockets: high numbers, ownership checks,
 * never blocking; see mcfd.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "highfd.h"
#include "mcfd.h"

#define NENT	  256  /* sockets alive at once, all threads together */
#define HIGH_MAX  4096 /* the numbers start below this ... */
#define HIGH_ROOM 64   /* ... and this far below the limit */

typedef int (*socket_fn)(int, int, int);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef int (*shutdown_fn)(int, int);
typedef int (*close_fn)(int);

/* One socket made by mcfd_socket(). fd1 is its number + 1 (0: free slot);
 * it is written last, under mu, so a reader that sees it sees the rest. */
struct ent {
	int fd1;
	bool lost; /* no longer the socket: written and read by its owner */
	pthread_t owner;
	dev_t dev;
	ino_t ino;
};

static socket_fn real_socket = socket;
static send_fn real_send = send;
static sendmsg_fn real_sendmsg = sendmsg;
static shutdown_fn real_shutdown = shutdown;
static close_fn real_close = close;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* writers of ents */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* A child of fork() has only the forking thread: mu held by another thread
 * at the fork would never be released there, and the child's first new
 * socket would wait for ever (the torture's fork children hung). An entry
 * half written at the fork has fd1 == 0: free. */
static void fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	mu = fresh;
}

static void fork_init(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}
static struct ent ents[NENT];

/* Sockets checked in the current operation of this thread; -1: outside
 * one (check every use). */
static __thread int checked[TXC_MAX_SERVERS];
static __thread int nchecked = -1;

int mcfd_base(void)
{
	return highfd_base();
}

static struct ent *find(int fd)
{
	if (fd < 0)
		return NULL;
	for (int i = 0; i < NENT; i++) {
		struct ent *e = &ents[(fd + i) % NENT];

		if (__atomic_load_n(&e->fd1, __ATOMIC_ACQUIRE) == fd + 1)
			return e;
	}
	return NULL;
}

/* Records FD. A number still listed was closed behind the shim's back (by
 * the program): its entry is reused. Returns 0 or -1 (table full). */
static int remember(int fd, const struct stat *st)
{
	struct ent *e;
	int rc = -1;

	pthread_mutex_lock(&mu);
	e = find(fd);
	for (int i = 0; i < NENT && !e; i++)
		if (ents[(fd + i) % NENT].fd1 == 0)
			e = &ents[(fd + i) % NENT];
	if (e) {
		__atomic_store_n(&e->fd1, 0, __ATOMIC_RELEASE);
		e->lost = false;
		e->owner = pthread_self();
		e->dev = st->st_dev;
		e->ino = st->st_ino;
		__atomic_store_n(&e->fd1, fd + 1, __ATOMIC_RELEASE);
		rc = 0;
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

static int wrap_socket(int domain, int type, int protocol)
{
	int fd = highfd_move(real_socket(domain, type, protocol), real_close);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0 || remember(fd, &st) != 0) {
		real_close(fd);
		errno = EMFILE;
		return -1;
	}
	return fd;
}

static bool was_checked(int fd)
{
	for (int i = 0; i < nchecked; i++)
		if (checked[i] == fd)
			return true;
	return false;
}

/* Whether FD may be used: 1 a shim socket, still ours; 0 not made by
 * mcfd_socket (pass it through); -1 lost, or another thread's (errno
 * EBADF). ALWAYS: check even if already checked in this operation. */
static int check(int fd, bool always)
{
	struct ent *e = find(fd);
	struct stat st;

	if (!e)
		return 0;
	if (!pthread_equal(e->owner, pthread_self()) || e->lost)
		goto bad;
	if (!always && was_checked(fd))
		return 1;
	if (fstat(fd, &st) != 0 || st.st_dev != e->dev || st.st_ino != e->ino) {
		e->lost = true;
		goto bad;
	}
	if (nchecked >= 0 && nchecked < TXC_MAX_SERVERS)
		checked[nchecked++] = fd;
	return 1;
bad:
	errno = EBADF;
	return -1;
}

static ssize_t wrap_send(int fd, const void *buf, size_t len, int flags)
{
	int c = check(fd, false);

	if (c < 0)
		return -1;
	return real_send(fd, buf, len, c ? flags | MSG_DONTWAIT : flags);
}

static ssize_t wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int c = check(fd, false);

	if (c < 0)
		return -1;
	return real_sendmsg(fd, msg, c ? flags | MSG_DONTWAIT : flags);
}

ssize_t mcfd_recv(mcfd_recv_fn real, int fd, void *buf, size_t len, int flags)
{
	int c = check(fd, false);

	if (c < 0)
		return -1;
	return real(fd, buf, len, c ? flags | MSG_DONTWAIT : flags);
}

unsigned long mcfd_socket_id(int fd)
{
	struct ent *e = find(fd);

	return e && pthread_equal(e->owner, pthread_self()) ? (unsigned long)e->ino : 0;
}

ssize_t mcfd_recv_exact(mcfd_recv_fn real, int fd, unsigned long id, void *buf, size_t len,
			int flags)
{
	/* a number the shim no longer owns, or that now names another of its
	 * sockets (a reconnection took it), is not the connection whose reply
	 * is awaited: never read it */
	if (id == 0 || mcfd_socket_id(fd) != id || check(fd, true) != 1) {
		errno = EBADF;
		return -1;
	}
	return real(fd, buf, len, flags | MSG_DONTWAIT);
}

static int wrap_shutdown(int fd, int how)
{
	int c = check(fd, true);

	return c < 0 ? -1 : real_shutdown(fd, how);
}

/* A lost socket is only forgotten: its number is the program's now. Done
 * under mu, so that no other thread's new socket can take the number
 * between the close and the forgetting. */
static int wrap_close(int fd)
{
	struct ent *e = find(fd);
	int c = check(fd, true), rc = 0;

	if (!e)
		return real_close(fd);
	if (c < 0 && !pthread_equal(e->owner, pthread_self()))
		return -1; /* another thread's socket: not this caller's to close */
	pthread_mutex_lock(&mu);
	if (c > 0)
		rc = real_close(fd);
	if (e->fd1 == fd + 1)
		__atomic_store_n(&e->fd1, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&mu);
	return rc;
}

void mcfd_begin(void)
{
	nchecked = 0;
}

void mcfd_end(void)
{
	nchecked = -1;
}

size_t mcfd_slots(struct mcfd_slot *out, size_t max)
{
	pthread_once(&fork_once, fork_init);
	const struct mcfd_slot all[] = {
	    {"socket", (void *)wrap_socket, (void **)&real_socket},
	    {"send", (void *)wrap_send, (void **)&real_send},
	    {"sendmsg", (void *)wrap_sendmsg, (void **)&real_sendmsg},
	    {"shutdown", (void *)wrap_shutdown, (void **)&real_shutdown},
	    {"close", (void *)wrap_close, (void **)&real_close},
	};
	size_t n = sizeof(all) / sizeof(all[0]);

	for (size_t i = 0; i < n && i < max; i++)
		out[i] = all[i];
	return n < max ? n : max;
}
