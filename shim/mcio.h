/* mcio.h - what the store needs to see of libmemcached's socket I/O: one
 * deadline per operation, and how each reply ended.
 *
 * Deadline: libmemcached bounds each poll() by POLL_TIMEOUT, never an
 * operation: a server that drips its reply one byte at a time keeps one
 * call going as long as it likes (40 bytes at 100 ms each: 4 s with a
 * 200 ms timeout). mcio_install() points libmemcached's own GOT slot of
 * poll() at a wrapper that shortens every wait to what is left of the
 * calling thread's deadline, and reports a timeout (returns 0) once it has
 * passed. libmemcached waits only in poll() (connect, send, receive), so an
 * armed operation ends by its deadline plus one non-blocking read or write.
 *
 * Reply ends: libmemcached's fetch reports an error line in reply to a get
 * ("SERVER_ERROR out of memory writing get response") as "not found", and
 * a fetch that never read anything the same way. The slot of recv() keeps
 * the last bytes each socket delivered during the operation, so that the
 * store can check that every reply to a get ended with "END\r\n" (ASCII)
 * or a NOOP response (binary protocol, used with SASL).
 *
 * Descriptors: the slots of socket, send, sendmsg, shutdown and close go
 * to mcfd.c (high numbers, ownership checks, MSG_DONTWAIT), and recv()
 * passes through mcfd_recv(); mcio_begin/mcio_end bracket mcfd's
 * operation too.
 *
 * Only libmemcached's calls go through the wrappers: the host's poll() and
 * recv() are untouched. All state is per thread (each thread has its own
 * memcached_st).
 */
#ifndef TXC_MCIO_H
#define TXC_MCIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redirects the poll(), recv() and mcfd_slots() slots of the library loaded as HANDLE (a
 * dlopen handle). Call once, before any thread uses the library. Returns
 * 0, or TXC_EUNAVAIL when a slot was not found or could not be written:
 * then the library keeps its own functions, each wait is bounded by
 * POLL_TIMEOUT only, and mcio_replies_end() always says yes. */
int mcio_install(void *handle);

/* Starts an operation of the calling thread: a deadline MS milliseconds
 * from now, and no socket read yet. */
void mcio_begin(uint32_t ms);

/* Ends it. Returns whether the deadline had passed (the operation ran out
 * of time, whatever libmemcached reported). */
bool mcio_end(void);

/* Whether at least one socket was read since mcio_begin() and the bytes
 * last read from each ended with TAIL (at most 24 bytes). */
bool mcio_replies_end(const char *tail);

/* The same for the binary protocol (SASL): whether every socket's last 24
 * bytes are a NOOP response with status 0 and no body, which is how a
 * binary mget's replies end. An error status, a short read or a wait that
 * gave up leaves something else there. */
bool mcio_replies_end_noop(void);

/* Whether a server answered a SASL authentication (binary SASL_AUTH or
 * SASL_STEP) with "authentication error" since mcio_begin(). libmemcached
 * reports that only for the first key of an mget: the others find the
 * server disabled, and the mget says so. False when mcio_install failed. */
bool mcio_auth_refused(void);

/* Pipelined stores (store.h's *_nowait). Arms the calling thread's
 * current operation (call after mcio_begin) so that the first reply
 * libmemcached reads is REPLY (a static string such as "STORED\r\n"),
 * handed over at once by the recv() slot on the socket it reads first; the
 * server's real reply stays in that socket for mcio_read_line(). Nothing
 * happens when mcio_install failed: libmemcached then waits for the real
 * reply as usual. */
void mcio_fake_reply(const char *reply);

/* Disarms it. Returns the socket the fake reply went to, or -1 when none
 * did (libmemcached failed before reading a reply, or nothing was armed):
 * then libmemcached's result is the real one. *ID: that socket's identity
 * (mcfd_socket_id). */
int mcio_fake_fd(unsigned long *id);

/* Reads one reply line of FD, the shim socket of identity ID
 * (mcfd_socket_id: TXC_EUNAVAIL, nothing read, when FD is no longer that
 * socket), written to LINE without its "\r\n" and
 * NUL-terminated, within MS milliseconds, and nothing past it (the socket
 * holds only that reply: libmemcached has not sent since). Returns 0;
 * TXC_ETIMEOUT; TXC_EUNAVAIL when the connection closed, failed or is no
 * longer the shim's (mcfd.h); TXC_ESERVER when no line end came within
 * CAP - 1 bytes. */
int mcio_read_line(int fd, unsigned long id, uint32_t ms, char *line, size_t cap);

/* Overlaps a pending store reply with the next operation: the first
 * recv() libmemcached makes on FD during the current operation (call after
 * mcio_begin) first reads FD's pending reply line, under the operation's
 * deadline, so the operation's request went out before that wait. A
 * failure to read it fails that recv (ECONNRESET: libmemcached drops the
 * connection). */
void mcio_pending_arm(int fd, unsigned long id);

/* After the operation: 1 when the armed reply was not read (the operation
 * never read FD: another server's, or it failed first); else what
 * mcio_read_line returned, with LINE filled when 0. Disarms. */
int mcio_pending_taken(char *line, size_t cap);

#endif
