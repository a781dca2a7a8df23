/* mcfd.h - the shim's memcached sockets stay out of the program's way.
 *
 * Numbers: a socket libmemcached creates would take the lowest free
 * descriptor, which the program expects its next open() to return (and
 * daemons and shells keep their own descriptors at fixed low numbers). The
 * socket() wrapper moves each new socket to a high number (highfd.h:
 * from min(RLIMIT_NOFILE soft, 4096) - 64, always below the limit) and
 * closes the low one. When no high number is free, socket() fails with
 * EMFILE: libmemcached reports a failed connection and the shim calls the
 * real function.
 *
 * Ownership: the program may close the shim's descriptor or dup2() its own
 * file or socket over it. Each socket's device and inode are remembered at
 * creation; before a send, recv, shutdown or close the descriptor is
 * checked with fstat() (once per socket per operation, every time outside
 * one). A descriptor that is no longer the shim's socket is "lost": every
 * later call on it fails with EBADF without touching it (libmemcached then
 * drops the connection and reconnects on a new socket), and close() only
 * forgets it.
 *
 * Blocking: every send, sendmsg and recv of a shim socket carries
 * MSG_DONTWAIT, so a descriptor whose file status turned blocking never
 * blocks; waits happen only in poll(), under mcio's deadline.
 *
 * Only libmemcached's calls reach these wrappers (mcio_install points its
 * GOT slots at them); the program's own calls are untouched. Descriptors
 * not created through mcfd_socket() are passed through unchanged. errno is
 * set as the real calls set it.
 */
#ifndef TXC_MCFD_H
#define TXC_MCFD_H

#include <stddef.h>
#include <sys/types.h>

/* One libmemcached import the module wraps: NAME's slot goes to WRAP, and
 * *REAL receives what it was bound to (it starts as the libc function). */
struct mcfd_slot {
	const char *name;
	void *wrap;
	void **real;
};

/* Fills OUT (room for MAX) with the wrapped imports; returns how many
 * (socket, send, sendmsg, shutdown, close). */
size_t mcfd_slots(struct mcfd_slot *out, size_t max);

typedef ssize_t (*mcfd_recv_fn)(int, void *, size_t, int);

/* recv() through REAL, with the ownership check and MSG_DONTWAIT above
 * (mcio owns the recv slot and calls this). */
ssize_t mcfd_recv(mcfd_recv_fn real, int fd, void *buf, size_t len, int flags);

/* The identity of FD as a shim socket of the calling thread (its inode at
 * creation), or 0 when FD is none: a later socket that takes the same
 * number has another. */
unsigned long mcfd_socket_id(int fd);

/* recv() through REAL, always MSG_DONTWAIT, only when FD is still the
 * shim socket whose identity is ID (mcfd_socket_id) and still the shim's
 * (checked now); else -1 with errno EBADF and nothing read. For a reply
 * awaited across operations (mcio_read_line): the number may have been
 * closed, reused by the program, or taken by a new connection since. */
ssize_t mcfd_recv_exact(mcfd_recv_fn real, int fd, unsigned long id, void *buf, size_t len,
			int flags);

/* An operation of the calling thread starts (every socket is checked again
 * on its first use) or ends (every use is checked). */
void mcfd_begin(void);
void mcfd_end(void);

/* The first descriptor number the shim's sockets take (for tests). */
int mcfd_base(void);

#endif
