/* filekey.h - the state of a file as a call's key sees it: the `file` and
 * `file:content` parameter kinds (sig.h).
 *
 * `file PATH` is keyed by the path and by stat(2) of it, symlinks followed:
 * device, inode, size, mtime and ctime with their nanoseconds. ctime is
 * there because mtime can be set back (cp -p, tar, rsync -a, touch -r):
 * ctime cannot. `file:content PATH` is keyed by the path, the size and an
 * XXH3-128 of the bytes, read at the call. A path that cannot be stat'ed
 * (or opened, for content) keys as its errno: ENOENT, ENOTDIR, EACCES,
 * EPERM, ELOOP or ENAMETOOLONG (enum filekey_class). So does, for `file`, a
 * file this process may not read (faccessat R_OK, effective ids): stat
 * needs no read permission, and the stat of a file root can read must not
 * find root's result for a user whose own call would fail.
 * Anything else (an I/O error, a FIFO or device, content over
 * FILEKEY_CONTENT_MAX) makes the call uncacheable: the host never fails.
 *
 * Soundness: the key is taken before the real call; after it,
 * filekey_still() must find the file as the key saw it, else nothing is
 * stored (a file rewritten or replaced while the function read it).
 * stat cannot see a rewrite of the same size within one timestamp tick,
 * so `file` also stores only a settled file: one whose mtime and ctime
 * were older than the call by FILEKEY_SETTLE_NS (FILEKEY_SETTLE_COARSE_NS
 * when both have no nanoseconds: a filesystem counting whole seconds).
 * Any later write then moves ctime past the key's. `file:content` hashes
 * again after the call and needs no settling; it cannot see a change
 * that is undone (same bytes, same stat) before the call returns.
 */
#ifndef TXC_FILEKEY_H
#define TXC_FILEKEY_H

#include <stdbool.h>
#include <stdint.h>

#define FILEKEY_CONTENT_MAX	 (64u << 20)  /* bytes hashed for file:content, at most */
#define FILEKEY_SETTLE_NS	 100000000LL  /* 100 ms: a jiffy is at most 10 ms */
#define FILEKEY_SETTLE_COARSE_NS 2000000000LL /* FAT keeps mtime in 2 s steps */

/* The class of a file's state; the byte the key encodes it by. One errno
 * each: a hit replays the function's errno, and the function's open fails
 * as the shim's stat did (ENOENT for a/b with a missing, ENOTDIR with a a
 * regular file: one class would give the first errno to both). */
enum filekey_class {
	FILEKEY_PRESENT = 'T',
	FILEKEY_MISSING = 'M', /* ENOENT */
	FILEKEY_NOTDIR = 'D',  /* ENOTDIR */
	FILEKEY_DENIED = 'A',  /* EACCES */
	FILEKEY_PERM = 'P',    /* EPERM */
	FILEKEY_LOOP = 'Z',    /* ELOOP */
	FILEKEY_TOOLONG = 'L'  /* ENAMETOOLONG */
};

struct txc_filekey {
	uint8_t cls;  /* enum filekey_class */
	bool content; /* file:content: HASH is set */
	bool settled; /* file: the times were old enough to store under */
	uint64_t dev, ino, size;
	int64_t mtime_s, ctime_s;
	uint32_t mtime_ns, ctime_ns;
	uint8_t hash[16]; /* content: canonical XXH3-128 of the bytes */
};

/* Takes the state of PATH (never NULL) into *OUT; CONTENT for file:content.
 * Returns 0 (a missing or unreadable file included: see cls), or, when the
 * call cannot be keyed: TXC_ETOOBIG (content over FILEKEY_CONTENT_MAX),
 * TXC_EINVAL (not a regular file or directory; content: not a regular
 * file), TXC_ENOMEM, TXC_ESYS (another errno). *OUT is unspecified after a
 * failure. Keeps errno. */
int filekey_take(const char *path, bool content, struct txc_filekey *out);

/* After the real call: 0 when PATH is in the state BEFORE recorded (for
 * content: the same bytes too) and, for `file`, BEFORE was settled;
 * TXC_EEXIST otherwise (the result must not be stored). Keeps errno. */
int filekey_still(const char *path, const struct txc_filekey *before);

/* A short word for the class or failure, for log lines. */
const char *filekey_why(int rc);

#endif
