/* mcraw.c - the memcached text protocol over one socket; see mcraw.h. */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "mcraw.h"

void mcraw_name(const struct txc_server *srv, char *buf, size_t cap)
{
	if (srv->is_socket)
		snprintf(buf, cap, "%s", srv->host);
	else
		snprintf(buf, cap, "%s:%u", srv->host, srv->port);
}

static int set_timeouts(int fd, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		return -1;
	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int open_unix(const char *path, unsigned ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 &&
	    (set_timeouts(fd, ms) != 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int open_tcp(const char *host, unsigned port, unsigned ms)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char serv[16];
	snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(host, serv, &hints, &res) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	int fd = -1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		/* SO_SNDTIMEO also bounds connect() on Linux */
		if (fd >= 0 &&
		    (set_timeouts(fd, ms) != 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

FILE *mcraw_open(const struct txc_server *srv, unsigned timeout_ms)
{
	int fd = srv->is_socket ? open_unix(srv->host, timeout_ms)
				: open_tcp(srv->host, srv->port, timeout_ms);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "r+");
	if (!f)
		close(fd);
	return f;
}

int mcraw_send(FILE *f, const char *cmd)
{
	if (fprintf(f, "%s\r\n", cmd) < 0 || fflush(f) != 0)
		return -1;
	return 0;
}

int mcraw_line(FILE *f, char *buf, size_t cap)
{
	if (!fgets(buf, (int)cap, f))
		return -1;
	size_t n = strlen(buf);
	if (n == 0 || buf[n - 1] != '\n')
		return -1;
	buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return (int)n;
}
