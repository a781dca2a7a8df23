/* log.h - one line per event on stderr, prefixed "txcache: ".
 *
 * Each message is formatted on the stack and written with a single write(2),
 * so lines from threads never interleave. errno is preserved. Safe to call
 * before the level is set (default: warn).
 */
#ifndef TXC_LOG_H
#define TXC_LOG_H

#include "config.h"

void log_set_level(int level);
int log_get_level(void);

/* Returns nonzero when a message at LEVEL would be written. */
int log_enabled(int level);

/* Writes "txcache: " FMT "\n" when LEVEL <= the current level. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
