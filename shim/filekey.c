/* filekey.c - the state of a file for a call's key; see filekey.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "err.h"
#include "filekey.h"

#define READ_CHUNK (64 * 1024)

/* The class of a failed stat or open; 0 when the errno is not one a key
 * can stand for (the file may be fine a moment later: EIO, ENOMEM). */
static uint8_t class_of(int e)
{
	switch (e) {
	case ENOENT:
		return FILEKEY_MISSING;
	case ENOTDIR:
		return FILEKEY_NOTDIR;
	case EACCES:
		return FILEKEY_DENIED;
	case EPERM:
		return FILEKEY_PERM;
	case ELOOP:
		return FILEKEY_LOOP;
	case ENAMETOOLONG:
		return FILEKEY_TOOLONG;
	default:
		return 0;
	}
}

/* Records a failed stat/open: 0 with the class, or TXC_ESYS. */
static int absent(struct txc_filekey *out, int e)
{
	out->cls = class_of(e);
	return out->cls ? 0 : TXC_ESYS;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* True when the times of ST are older than now by the settling margin. */
static bool times_settled(const struct stat *st)
{
	struct timespec now;
	bool coarse = st->st_mtim.tv_nsec == 0 && st->st_ctim.tv_nsec == 0;
	int64_t margin = coarse ? FILEKEY_SETTLE_COARSE_NS : FILEKEY_SETTLE_NS;
	int64_t m = ts_ns(&st->st_mtim), c = ts_ns(&st->st_ctim);
	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		return false;
	/* a time in the future (another clock, touch -d) is never settled */
	return ts_ns(&now) - (m > c ? m : c) >= margin;
}

static void fill_stat(struct txc_filekey *out, const struct stat *st)
{
	out->cls = FILEKEY_PRESENT;
	out->dev = (uint64_t)st->st_dev;
	out->ino = (uint64_t)st->st_ino;
	out->size = (uint64_t)st->st_size;
	out->mtime_s = (int64_t)st->st_mtim.tv_sec;
	out->mtime_ns = (uint32_t)st->st_mtim.tv_nsec;
	out->ctime_s = (int64_t)st->st_ctim.tv_sec;
	out->ctime_ns = (uint32_t)st->st_ctim.tv_nsec;
	out->settled = times_settled(st);
}

/* Hashes the open regular file FD of SIZE bytes into OUT->hash. A file
 * that grows or shrinks meanwhile is hashed as read: filekey_still sees
 * the change. */
static int hash_fd(int fd, struct txc_filekey *out)
{
	XXH3_state_t st;
	XXH128_canonical_t c;
	uint8_t *buf = malloc(READ_CHUNK);
	uint64_t total = 0;
	if (!buf)
		return TXC_ENOMEM;
	XXH3_128bits_reset(&st);
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (total += (uint64_t)n) > FILEKEY_CONTENT_MAX) {
			free(buf);
			return n < 0 ? TXC_ESYS : TXC_ETOOBIG;
		}
		if (n == 0)
			break;
		XXH3_128bits_update(&st, buf, (size_t)n);
	}
	free(buf);
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
	memcpy(out->hash, c.digest, sizeof(out->hash));
	out->size = total;
	return 0;
}

/* Opening is not looking: an open of a FIFO lets its waiting writer go
 * (and the close then leaves it writing to no reader), a device's open and
 * close act on the device. So the path is stat'ed first and only a regular
 * file opened; the open file must then be the file stat saw. */
static int take_content(const char *path, struct txc_filekey *out)
{
	struct stat pre, st;
	if (stat(path, &pre) != 0)
		return absent(out, errno);
	if (!S_ISREG(pre.st_mode))
		return TXC_EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return absent(out, errno);
	int rc = fstat(fd, &st) != 0 ? TXC_ESYS : S_ISREG(st.st_mode) ? 0 : TXC_EINVAL;
	if (rc == 0 && (st.st_dev != pre.st_dev || st.st_ino != pre.st_ino))
		rc = TXC_ESYS; /* replaced between the two looks: key it next call */
	if (rc == 0 && (uint64_t)st.st_size > FILEKEY_CONTENT_MAX)
		rc = TXC_ETOOBIG;
	if (rc == 0) {
		fill_stat(out, &st);
		rc = hash_fd(fd, out);
	}
	close(fd);
	return rc;
}

/* False when this process may not read PATH. stat needs no read
 * permission: an unreadable file has the stat of the bytes another user's
 * call stored. Only EACCES counts: a sandbox that refuses faccessat2
 * itself (EPERM, ENOSYS) says nothing about the file. */
static bool readable(const char *path)
{
	return faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0 || errno != EACCES;
}

int filekey_take(const char *path, bool content, struct txc_filekey *out)
{
	int saved = errno, rc;
	struct stat st;
	memset(out, 0, sizeof(*out));
	out->content = content;
	if (content)
		rc = take_content(path, out);
	else if (stat(path, &st) != 0)
		rc = absent(out, errno);
	else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		rc = TXC_EINVAL; /* a FIFO or a device: its stat says nothing of what it reads */
	else if (!readable(path))
		rc = absent(out, EACCES);
	else
		rc = 0, fill_stat(out, &st);
	errno = saved;
	return rc;
}

static bool same_state(const struct txc_filekey *a, const struct txc_filekey *b)
{
	if (a->cls != b->cls)
		return false;
	if (a->cls != FILEKEY_PRESENT)
		return true;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns && a->ctime_s == b->ctime_s &&
	       a->ctime_ns == b->ctime_ns &&
	       (!a->content || memcmp(a->hash, b->hash, sizeof(a->hash)) == 0);
}

int filekey_still(const char *path, const struct txc_filekey *before)
{
	struct txc_filekey now;
#ifndef TXC_MUTANT_FILE_STILL /* make mutants: the file's state is not checked after the call */
	if (filekey_take(path, before->content, &now) != 0 || !same_state(before, &now))
		return TXC_EEXIST;
	if (!before->content && before->cls == FILEKEY_PRESENT && !before->settled)
		return TXC_EEXIST;
#else
	(void)path, (void)before, (void)now;
#endif
	return 0;
}

const char *filekey_why(int rc)
{
	switch (rc) {
	case TXC_ETOOBIG:
		return "file:content larger than 64 MiB";
	case TXC_EINVAL:
		return "not a regular file (or, for file, a directory)";
	case TXC_ENOMEM:
		return "out of memory";
	default:
		return "stat or read failed";
	}
}
