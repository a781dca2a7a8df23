/* log.c - single-write log lines on stderr, a file of their own, or syslog. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "err.h"
#include "highfd.h"
#include "log.h"

/* A descriptor and the file it was when the shim took it. */
struct sink {
	int fd; /* -1: none */
	dev_t dev;
	ino_t ino;
};

static int current_level = TXC_LOG_WARN;
static struct sink g_stderr = {STDERR_FILENO, 0, 0};
static bool g_stderr_known; /* log_init() ran */
static struct sink g_file = {-1, 0, 0};
static char g_path[4096];
static bool g_syslog;
static pthread_mutex_t g_file_lock = PTHREAD_MUTEX_INITIALIZER;

static int sink_take(struct sink *s, int fd)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		s->fd = -1;
		return TXC_ESYS;
	}
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

/* True while S's descriptor still refers to the file it was taken as. */
static bool sink_same(const struct sink *s)
{
	struct stat st;
	return s->fd >= 0 && fstat(s->fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

/* In a child of fork() the thread that held the file lock does not exist. */
static void fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	g_file_lock = fresh;
}

void log_init(void)
{
	int saved = errno;
	pthread_atfork(NULL, NULL, fork_child);
	sink_take(&g_stderr, STDERR_FILENO);
	g_stderr_known = true;
	errno = saved;
}

static int open_log_file(void)
{
	/* A high number: the program's next open() returns what it would. */
	int fd = highfd_move(
	    open(g_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600), NULL);
	if (fd < 0)
		return TXC_ESYS;
	if (sink_take(&g_file, fd) != 0) {
		close(fd);
		return TXC_ESYS;
	}
	return 0;
}

int log_set_target(const char *target)
{
	int saved = errno, rc = 0;
	if (!target || !*target || strcmp(target, "stderr") == 0) {
		g_syslog = false;
	} else if (strcmp(target, "syslog") == 0) {
		g_syslog = true;
	} else if (target[0] != '/' || strlen(target) >= sizeof(g_path)) {
		rc = TXC_EINVAL;
	} else {
		pthread_mutex_lock(&g_file_lock);
		snprintf(g_path, sizeof(g_path), "%s", target);
		rc = open_log_file();
		if (rc != 0)
			g_path[0] = '\0';
		pthread_mutex_unlock(&g_file_lock);
	}
	errno = saved;
	return rc;
}

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

static void write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		len -= (size_t)w;
	}
}

/* The host may have closed our log file and reused its number: never write
 * to that number again (it is the host's now); open the path anew. */
static void write_file(const char *line, size_t len)
{
	pthread_mutex_lock(&g_file_lock);
	if (!sink_same(&g_file) && open_log_file() != 0)
		g_file.fd = -1;
	if (g_file.fd >= 0)
		write_all(g_file.fd, line, len);
	pthread_mutex_unlock(&g_file_lock);
}

static void emit(int level, const char *line, size_t len)
{
	if (g_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		int p = level >= 0 && level <= TXC_LOG_DEBUG ? prio[level] : LOG_DEBUG;
		syslog(LOG_USER | p, "%.*s", (int)len - 1, line); /* without the '\n' */
	} else if (g_path[0]) {
		write_file(line, len);
	} else if (!g_stderr_known || sink_same(&g_stderr)) {
		write_all(STDERR_FILENO, line, len);
	}
}

static void log_va(int level, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[1024];
	static const char prefix[] = "txcache: ";
	memcpy(line, prefix, sizeof(prefix) - 1);
	size_t room = sizeof(line) - sizeof(prefix); /* leaves one byte for '\n' */
	int n = vsnprintf(line + sizeof(prefix) - 1, room, fmt, ap);
	if (n < 0)
		n = 0;
	size_t len = sizeof(prefix) - 1 + ((size_t)n < room ? (size_t)n : room - 1);
	line[len++] = '\n';
	emit(level, line, len);
	errno = saved;
}

void log_msg(int level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_va(level, fmt, ap);
	va_end(ap);
}

void log_once(int *once, int level, const char *fmt, ...)
{
	if (!log_enabled(level) || __atomic_exchange_n(once, 1, __ATOMIC_RELAXED))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_va(level, fmt, ap);
	va_end(ap);
}
