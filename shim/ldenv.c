/* ldenv.c - loader settings from the start-up environment; see ldenv.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "ldenv.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static bool g_dynamic_weak;

/* Matches "LD_DYNAMIC_WEAK=" at the start of each NUL-separated entry,
 * fed a byte at a time (no buffer for entries of any length). */
struct env_scan {
	size_t pos; /* bytes of the current entry seen; SIZE_MAX: no match */
	bool found;
};

static void env_feed(struct env_scan *s, char c)
{
	static const char want[] = "LD_DYNAMIC_WEAK=";
	if (c == '\0') {
		s->pos = 0;
		return;
	}
	if (s->pos == (size_t)-1 || s->found)
		return;
	if (c != want[s->pos]) {
		s->pos = (size_t)-1;
		return;
	}
	if (++s->pos == sizeof(want) - 1)
		s->found = true;
}

/* 1: set, 0: not set, -1: /proc/self/environ not readable. */
static int environ_has_weak(void)
{
	int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct env_scan s = {0, false};
	char buf[4096];
	ssize_t got;
	while (!s.found && ((got = read(fd, buf, sizeof(buf))) > 0 || (got < 0 && errno == EINTR)))
		for (ssize_t i = 0; i < got; i++)
			env_feed(&s, buf[i]);
	close(fd);
	return s.found;
}

static void read_once(void)
{
	int saved = errno;
	if (getauxval(AT_SECURE) == 0) {
		int rc = environ_has_weak();
		g_dynamic_weak = rc < 0 ? getenv("LD_DYNAMIC_WEAK") != NULL : rc == 1;
	}
	errno = saved;
}

bool ldenv_dynamic_weak(void)
{
	pthread_once(&g_once, read_once);
	return g_dynamic_weak;
}
