/* test_mcfd.c - the wrappers mcio puts in libmemcached's GOT: a new socket
 * lands at a high number; once the program has put another socket (or
 * nothing) at that number, send, recv, shutdown and close never touch it;
 * a socket of another thread is refused the same way. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "highfd.h"
#include "mcfd.h"

typedef int (*socket_fn)(int, int, int);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef int (*fd_fn)(int);
typedef int (*shutdown_fn)(int, int);

static struct mcfd_slot slots[8];
static size_t nslots;

static void *wrap(const char *name)
{
	for (size_t i = 0; i < nslots; i++)
		if (strcmp(slots[i].name, name) == 0)
			return slots[i].wrap;
	return NULL;
}

static int fd_in_thread;

static void *other_thread(void *p)
{
	send_fn w_send = (send_fn)wrap("send");

	(void)p;
	errno = 0;
	fd_in_thread = (int)w_send(*(int *)p, "x", 1, 0) == -1 && errno == EBADF;
	return NULL;
}

int main(void)
{
	nslots = mcfd_slots(slots, 8);
	socket_fn w_socket = (socket_fn)wrap("socket");
	send_fn w_send = (send_fn)wrap("send");
	fd_fn w_close = (fd_fn)wrap("close");
	shutdown_fn w_shutdown = (shutdown_fn)wrap("shutdown");
	int sv[2], fd, peer[2];
	char buf[16];
	pthread_t t;

	CHECK(nslots == 5 && w_socket && w_send && w_close && w_shutdown,
	      "socket, send, sendmsg, shutdown and close are wrapped (%zu)", nslots);
	fd = w_socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= highfd_base(), "a new socket is at a high number (%d >= %d)", fd,
	      highfd_base());
	CHECK(w_send(fd, "x", 1, 0) == -1 && errno != EBADF,
	      "an unconnected shim socket is used (send fails with its own error)");
	pthread_create(&t, NULL, other_thread, &fd);
	pthread_join(t, NULL);
	CHECK(fd_in_thread, "another thread's send on it fails with EBADF");

	/* The program puts one end of its own socketpair at that number. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	dup2(sv[1], fd);
	errno = 0;
	CHECK(w_send(fd, "leak", 4, 0) == -1 && errno == EBADF, "send on it: -1, EBADF");
	CHECK(mcfd_recv(recv, fd, buf, sizeof(buf), 0) == -1 && errno == EBADF,
	      "recv on it: -1, EBADF (no wait)");
	CHECK(w_shutdown(fd, SHUT_RDWR) == -1 && errno == EBADF, "shutdown on it: -1, EBADF");
	w_close(fd);
	CHECK(fcntl(fd, F_GETFD) >= 0, "close() leaves the program's descriptor open");
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	CHECK(read(sv[0], buf, sizeof(buf)) == -1 && errno == EAGAIN,
	      "and nothing reached the program's peer");
	close(fd);

	/* A blocking shim socket, connected, no data: recv returns at once
	 * (MSG_DONTWAIT); alarm() ends the test if it would block. */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lis = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(sa.sun_path, "\0txc-test-mcfd", 15);
	bind(lis, (struct sockaddr *)&sa, sizeof(sa.sun_family) + 15);
	listen(lis, 4);
	fd = w_socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa.sun_family) + 15) == 0,
	      "a blocking shim socket connects");
	alarm(10);
	errno = 0;
	CHECK(mcfd_recv(recv, fd, buf, sizeof(buf), 0) == -1 && errno == EAGAIN,
	      "recv on a blocking shim socket with nothing to read: -1, EAGAIN");
	alarm(0);
	w_close(fd);
	close(lis);

	/* A socket the shim still owns is closed for real. */
	fd = w_socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(w_close(fd) == 0 && fcntl(fd, F_GETFD) < 0, "its own socket is closed");

	/* The program closed it: later calls fail without a syscall on it. */
	fd = w_socket(AF_UNIX, SOCK_STREAM, 0);
	close(fd);
	socketpair(AF_UNIX, SOCK_STREAM, 0, peer);
	errno = 0;
	CHECK(w_send(fd, "x", 1, 0) == -1 && errno == EBADF, "a closed one: send -1, EBADF");
	CHECK(w_close(fd) == 0, "and close() only forgets it");
	return check_done();
}
