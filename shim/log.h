/* log.h - one line per event, prefixed "txcache: ".
 *
 * Each message is formatted on the stack and written with a single write(2),
 * so lines from threads never interleave. errno is preserved. Safe to call
 * before the level is set (default: warn) and before log_init().
 *
 * Targets: stderr (default), a file (log_file = PATH) or syslog
 * (log_file = syslog). A descriptor is written only while it is still the
 * file the shim found or opened: a daemon that closes fd 2 and reuses the
 * number for its own data (a file, a socket) never gets txcache lines in it.
 * The check compares device and inode before each line (one fstat, paid
 * only when a line is written).
 */
#ifndef TXC_LOG_H
#define TXC_LOG_H

#include "config.h"

/* Remembers which file fd 2 is now (call first thing in the constructor).
 * When fd 2 is closed, nothing is ever written to it. */
void log_init(void);

/* Sends lines to TARGET: "" or "stderr" (the default), "syslog", or an
 * absolute path opened for append (created 0600). Returns 0, or a negative
 * code when the file cannot be opened (stderr stays the target). */
int log_set_target(const char *target);

void log_set_level(int level);
int log_get_level(void);

/* Returns nonzero when a message at LEVEL would be written. */
int log_enabled(int level);

/* Writes "txcache: " FMT "\n" when LEVEL <= the current level. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* log_msg, the first time only for *ONCE (a zero-initialised int, set
 * atomically: one line per process however many threads get here). */
void log_once(int *once, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
