/* trustpath.h - is a file safe to take orders from? (the config's trust root)
 *
 * A config names functions to patch, servers to trust and secret files to
 * read, so whoever can change it controls the program. Like ssh with its
 * files, txcache refuses a config that anyone but the user (or root) could
 * have written or replaced.
 */
#ifndef TXC_TRUSTPATH_H
#define TXC_TRUSTPATH_H

#include <stddef.h>

/* Checks the file open on FD, which was opened by the name PATH.
 *
 * Refused (returns TXC_ECONFIG and writes one sentence, without the path
 * itself, into MSG of MSGLEN bytes, e.g. "refusing a config that others can
 * write (mode 0664)") when:
 *  - the file (fstat on FD: no check-then-open race) is writable by group or
 *    others, or owned by someone other than the effective user or root;
 *  - any directory met while resolving PATH from / down (those of the real
 *    path, those holding each symlink followed, and those of the working
 *    directory for a relative PATH) is writable by group or others, or owned
 *    by someone other than the effective user or root. A sticky directory
 *    (/tmp, mode 1777) owned by root or the user is fine: others cannot
 *    remove or rename what is in it;
 *  - a symlink followed is owned by someone other than the user or root;
 *  - PATH no longer names the file open on FD (it was replaced meanwhile), or
 *    cannot be resolved (a loop, a component too long).
 * An anonymous pipe or socket (`-c /dev/stdin` fed by a pipe, `<(...)`) has
 * no directory: only its owner and mode are checked.
 *
 * Returns 0 when the file is trusted (MSG is then an empty string), or
 * TXC_ENOMEM (with a sentence in MSG) when the check could not run.
 * Touches nothing but MSG; errno is preserved. */
int trust_path_check(const char *path, int fd, char *msg, size_t msglen);

#endif
