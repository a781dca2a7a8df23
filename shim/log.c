/* log.c - single-write log lines on stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int current_level = TXC_LOG_WARN;

void log_set_level(int level)
{
	__atomic_store_n(&current_level, level, __ATOMIC_RELAXED);
}

int log_get_level(void)
{
	return __atomic_load_n(&current_level, __ATOMIC_RELAXED);
}

int log_enabled(int level)
{
	return level <= log_get_level();
}

void log_msg(int level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	int saved = errno;
	char line[1024];
	static const char prefix[] = "txcache: ";
	memcpy(line, prefix, sizeof(prefix) - 1);
	size_t room = sizeof(line) - sizeof(prefix); /* leaves one byte for '\n' */
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line + sizeof(prefix) - 1, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	size_t len = sizeof(prefix) - 1 + ((size_t)n < room ? (size_t)n : room - 1);
	line[len++] = '\n';
	const char *p = line;
	while (len > 0) {
		ssize_t w = write(STDERR_FILENO, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		len -= (size_t)w;
	}
	errno = saved;
}
