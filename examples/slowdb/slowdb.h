/* slowdb.h - a deliberately slow user database: the example txcache speeds up.
 *
 * The "database" is a text file (env SLOWDB_FILE, default /tmp/slowdb.txt)
 * of lines "USER EMAIL". Every db_get() first sleeps SLOWDB_DELAY_MS
 * milliseconds (default 2000), standing for a heavy query on a remote server.
 * Nothing here knows about txcache: it is an ordinary library that the shim
 * caches from the outside, driven by config/slowdb.ini.
 */
#ifndef SLOWDB_H
#define SLOWDB_H

#include <stddef.h>

/* Looks up USER's email and copies it into EMAIL with snprintf semantics:
 * at most CAP bytes, always NUL-terminated when CAP > 0.
 * Returns the email's length (without the NUL); -1 when USER is unknown,
 * NULL, or contains white space; -2 when the email does not fit in CAP
 * (EMAIL then holds a truncated copy); -3 when the database cannot be read. */
int db_get(const char *user, char *email, size_t cap);

/* Sets USER's email to EMAIL, adding USER when unknown; the file is replaced
 * atomically. Returns 0, or -1 when an argument is NULL, empty or contains
 * white space, or the file cannot be written (errno tells why). */
int db_set(const char *user, const char *email);

#endif
