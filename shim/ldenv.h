/* ldenv.h - loader settings read from the environment the program started
 * with, as glibc's rtld read them (elf/rtld.c, process_envvars).
 *
 * The loader reads LD_* variables once, before any constructor runs; a
 * program may change its environment afterwards, so the start-up
 * environment is read from /proc/self/environ (getenv when /proc is not
 * there).
 */
#ifndef TXC_LDENV_H
#define TXC_LDENV_H

#include <stdbool.h>

/* Whether LD_DYNAMIC_WEAK was set (to any value, even empty) at start and
 * the process is not AT_SECURE (the loader ignores it there): then a weak
 * definition does not end a symbol lookup; a later strong one wins, and
 * the first weak one counts only when none follows (dl-lookup.c). Read
 * once; thread-safe. */
bool ldenv_dynamic_weak(void);

#endif
