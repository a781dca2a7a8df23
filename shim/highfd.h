/* highfd.h - descriptors the shim keeps open live at high numbers.
 *
 * A descriptor the shim holds for long (a memcached socket, the log file)
 * would otherwise take the lowest free number, the one the program expects
 * its next open() to return; daemons and shells also keep their own
 * descriptors at fixed low numbers. The shim's are moved to numbers from
 * highfd_base() up, always below the RLIMIT_NOFILE soft limit.
 */
#ifndef TXC_HIGHFD_H
#define TXC_HIGHFD_H

/* min(RLIMIT_NOFILE soft limit, 4096) - 64 (the upper half of a limit
 * under 128), at least 3. */
int highfd_base(void);

/* Moves FD to the lowest free number from highfd_base() up, close-on-exec,
 * and closes FD with CLOSE (the caller's real close(); NULL: close()).
 * Returns the new descriptor, or -1 with errno set (EMFILE when no high
 * number is free): FD is closed either way. A FD already at or above the
 * base is kept as it is (made close-on-exec). */
int highfd_move(int fd, int (*close_fn)(int));

#endif
