/* privfile.c - opening and reading a private file; see privfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "privfile.h"

int privfile_open(const char *path, char *msg, size_t msglen)
{
	struct stat sb;
	/* O_NONBLOCK: a FIFO planted at PATH must not block the open */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		snprintf(msg, msglen, "cannot open (%s)", strerror(errno));
		return TXC_ECONFIG;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(msg, msglen, "not a regular file");
	} else if (sb.st_uid != geteuid()) {
		snprintf(msg, msglen, "must be owned by uid %u, not %u", (unsigned)geteuid(),
			 (unsigned)sb.st_uid);
	} else if (sb.st_mode & 077) {
		snprintf(msg, msglen, "must be mode 0600, not %04o",
			 (unsigned)(sb.st_mode & 07777));
	} else {
		return fd;
	}
	close(fd);
	return TXC_ECONFIG;
}

/* Reads until end of file or CAP bytes. Returns the count, or -1 (MSG). */
static ssize_t read_all(int fd, char *buf, size_t cap, char *msg, size_t msglen)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(msg, msglen, "cannot read (%s)", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

int privfile_read_raw(const char *path, void *buf, size_t cap, size_t min, size_t *len, char *msg,
		      size_t msglen)
{
	int fd = privfile_open(path, msg, msglen);
	ssize_t n;

	*len = 0;
	if (fd < 0 || cap == 0)
		return TXC_ECONFIG;
	n = read_all(fd, buf, cap, msg, msglen);
	close(fd);
	if (n >= 0 && ((size_t)n < min || (size_t)n >= cap)) {
		snprintf(msg, msglen, "must hold %zu to %zu bytes", min, cap - 1);
		n = -1;
	}
	if (n < 0) {
		explicit_bzero(buf, cap);
		return TXC_ECONFIG;
	}
	*len = (size_t)n;
	return 0;
}

int privfile_read(const char *path, char *buf, size_t cap, size_t min, size_t *len, char *msg,
		  size_t msglen)
{
	int rc = privfile_read_raw(path, buf, cap, min, len, msg, msglen);
	size_t n = *len;

	if (rc != 0)
		return rc;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 0;
}
