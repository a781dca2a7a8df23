/* test_highfd.c - highfd_move puts a descriptor at a high number, below the
 * RLIMIT_NOFILE soft limit, and fails (EMFILE, the low one closed) when no
 * high number is free. */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "highfd.h"

static int lowest_free(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

int main(void)
{
	struct rlimit rl, small;
	int low, fd, base, err, free_before;

	getrlimit(RLIMIT_NOFILE, &rl);
	small = rl;
	small.rlim_cur = 256;
	CHECK(setrlimit(RLIMIT_NOFILE, &small) == 0, "the soft limit can be set to 256");
	base = highfd_base();
	CHECK(base == 192, "base with a limit of 256: 256 - 64 (got %d)", base);

	free_before = lowest_free();
	low = dup(0);
	fd = highfd_move(low, NULL);
	CHECK(fd >= base && fd < 256, "moved to [%d, 256): %d", base, fd);
	CHECK(fcntl(low, F_GETFD) < 0, "the low descriptor %d is closed", low);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "the high one is close-on-exec");
	CHECK(lowest_free() == free_before, "the lowest free number is unchanged");

	/* Fill every high number: the next move fails and closes its fd. */
	for (int t = base; t < 256; t++)
		dup2(0, t);
	low = dup(0);
	errno = 0;
	fd = highfd_move(low, NULL);
	err = errno;
	CHECK(fd == -1 && err == EMFILE, "no high number free: -1, EMFILE (got %d, %d)", fd, err);
	CHECK(fcntl(low, F_GETFD) < 0, "and the low descriptor is closed");
	for (int t = base; t < 256; t++)
		close(t);

	small.rlim_cur = 100;
	setrlimit(RLIMIT_NOFILE, &small);
	CHECK(highfd_base() == 50, "a limit under 128: its upper half (got %d)", highfd_base());
	setrlimit(RLIMIT_NOFILE, &rl);
	return check_done();
}
