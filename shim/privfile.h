/* privfile.h - reading a private file: a secret only its owner may read.
 *
 * The rules (the same for secret_file and sasl_password_file): the path is
 * opened with O_NOFOLLOW (a final symlink is refused), and the file must be
 * a regular file owned by the effective user with no permission for group
 * or others (mode 0600 or 0400). Checked on the open descriptor (fstat), so
 * a rename between check and read cannot swap the file.
 */
#ifndef TXC_PRIVFILE_H
#define TXC_PRIVFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Opens PATH read-only and checks it as above. Returns an fd the caller
 * closes, or TXC_ECONFIG with MSG set to the reason ("must be mode 0600,
 * not 0644"); nothing is left open then. */
int privfile_open(const char *path, char *msg, size_t msglen);

/* Opens PATH (privfile_open) and reads all of it, as it is, into BUF (CAP
 * bytes): MIN to CAP - 1 bytes. Returns 0 and *LEN, or TXC_ECONFIG with MSG
 * set and BUF wiped. On success the caller wipes BUF after use. */
int privfile_read_raw(const char *path, void *buf, size_t cap, size_t min, size_t *len, char *msg,
		      size_t msglen);

/* Opens PATH (privfile_open) and reads all of it into BUF (CAP bytes), then
 * strips one trailing "\n" (or "\r\n") and NUL-terminates. The file must
 * hold MIN to CAP - 1 bytes (counted before stripping). Returns the length
 * kept and 0, or TXC_ECONFIG with MSG set. On failure BUF is wiped
 * (explicit_bzero); on success the caller wipes it after use. */
int privfile_read(const char *path, char *buf, size_t cap, size_t min, size_t *len, char *msg,
		  size_t msglen);

#endif
