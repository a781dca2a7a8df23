/* prof.h - profile mode (`txcache profile`): time every call that crosses
 * a module boundary, and compute the keys of the calls of functions with a
 * known signature, without any cache.
 *
 * On when TXCACHE_PROFILE names a report file (made 0600 in a private
 * directory by the CLI; opened O_APPEND|O_NOFOLLOW, never created here).
 * Then the shim opens no memcached connection and makes no store call:
 * configured functions run dispatch's profile path (key as a real run
 * computes it, real call, timed: prof_keyed), and every other function a
 * JUMP_SLOT or a dlsym gives gets a timing trampoline (prof_tramp.h).
 *
 * Report lines (tab-separated; counters are deltas since the last write,
 * so a reader adds up every line; names with a tab or newline get '?'):
 *   P pid exe
 *   F pid name library calls ns                 a function without signature
 *   K pid name library calls ns unkeyed lost    a configured function
 *   D pid name key calls ns                     one of its keys (16 hex
 *                                               digits of the key digest)
 * "unkeyed": calls whose key could not be made (logged at info: definition
 * unknown, a symptr to nowhere, a file that cannot be read); "lost": keyed
 * calls past PROF_KEYS distinct keys of the function, not itemized.
 * Written by a destructor, before exec* and _exit (their stubs flush:
 * prof_tramp.h; not when called from a signal handler, whose process's
 * records are then lost), and by a fork child for its own calls (zeroed
 * at fork).
 */
#ifndef TXC_PROF_H
#define TXC_PROF_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "key.h"

#define PROF_KEYS 4096 /* distinct keys itemized per configured function */

/* Reads TXCACHE_PROFILE. Returns 0 when unset (profile mode off), 1 when
 * on (the file exists and is a regular file), or TXC_EUNAVAIL after logging
 * why it cannot be (not x86_64; no such file; no memory): the shim must
 * then stay inert rather than cache. Call once, at start. */
int prof_init(const struct txc_config *cfg);

/* True once prof_init returned 1. */
bool prof_on(void);

/* Records one call of configured function FN (definition REAL), DIGEST its
 * key (NULL: no key could be made), NS its duration. Lock-free and
 * async-signal-safe. */
void prof_keyed(int fn, void *real, const struct txc_digest *digest, int64_t ns);

/* The address to write into a slot (FROM_DLSYM: a pointer dlsym returns)
 * for the import NAME whose definition is REAL: its timing stub, or NULL
 * to leave it (a function that must never be trampolined, see prof.c; a
 * dlsym result that is not a function). */
void *prof_any(const char *name, void *real, int from_dlsym);

/* Appends the counters to the report and zeroes them. */
void prof_flush(void);

#endif
