/* highfd.c - the shim's long-lived descriptors at high numbers; see
 * highfd.h. */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "highfd.h"

#define HIGH_MAX  4096 /* the numbers start below this ... */
#define HIGH_ROOM 64   /* ... and this far below the limit */

int highfd_base(void)
{
	struct rlimit rl;
	rlim_t lim = HIGH_MAX;
	int base;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < lim)
		lim = rl.rlim_cur;
	base = (int)lim - HIGH_ROOM;
	if (base < (int)lim / 2) /* a tiny limit: still the upper half */
		base = (int)lim / 2;
	return base > 3 ? base : 3;
}

int highfd_move(int fd, int (*close_fn)(int))
{
	int base = highfd_base(), high, saved;

	if (fd < 0)
		return fd;
	if (fd >= base) {
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		return fd;
	}
	high = fcntl(fd, F_DUPFD_CLOEXEC, base);
	saved = errno;
	(close_fn ? close_fn : close)(fd);
	if (high < 0) {
		errno = saved == EINVAL ? EMFILE : saved;
		return -1;
	}
	return high;
}
