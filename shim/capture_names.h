/* capture_names.h - which functions the capture layer itself wraps.
 *
 * A configured function that is one of them (fputs, write, printf, ...)
 * and has an out fd or out stream parameter cannot be cached: its closure
 * calls libc directly, libc's own writes never pass through a GOT, so a
 * miss captures nothing and a hit would print nothing. The config check
 * refuses such a function (config_check.c).
 */
#ifndef TXC_CAPTURE_NAMES_H
#define TXC_CAPTURE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* True when NAME is one of the functions capture_arm wraps. The list is
 * kept here, apart from the wrapper tables (capture_wrap*.c), so that the
 * config check links without the capture layer; a unit test keeps the two
 * equal. */
bool capture_wraps_name(const char *name);

/* The list itself: returns its length and sets *LIST. */
size_t capture_wrapped_names(const char *const **list);

#endif
