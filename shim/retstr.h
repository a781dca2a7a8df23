/* retstr.h - the char * a hit returns, for the three string return kinds.
 *
 * string: txcache's storage, per function and thread: two buffers used in
 *   turn. The pointer a hit returns keeps its bytes through the next call
 *   of that function in the same thread and may be reused or freed by the
 *   call after it. This is the crypt(3) contract ("valid until the next
 *   call") with one call to spare: `a = f(1); b = f(2);` leaves a readable,
 *   whatever the lengths. Freed when the thread exits.
 * owned string: a malloc'ed copy; the caller frees it.
 * static string: interned per function for the life of the process: each
 *   distinct result of a function is one pointer, never written or freed
 *   again, however many calls follow (strerror, strsignal, gai_strerror).
 *   All functions together intern at most RETSTR_STATIC_MAX bytes (strings,
 *   NULs and bookkeeping); past that the hit is refused (TXC_ETOOBIG), the
 *   real function runs, and one warning is logged per process.
 *
 * Thread-safe, and fork-safe: a child re-initializes the interning locks
 * (one thread key for the whole shim, whatever the number of functions).
 * The shim never frees interned strings.
 */
#ifndef TXC_RETSTR_H
#define TXC_RETSTR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "sig.h"

#define RETSTR_STATIC_MAX (1u << 20) /* bytes per process for static strings */

struct retstr_intern; /* the interning table of one function */

/* One function's state. Set up with retstr_init(), never torn down: a
 * pointer handed to a caller may be used until the process ends. */
struct retstr_fn {
	enum txc_ret kind;
	int slot;	    /* string: index of its pair of buffers in each thread; -1: none */
	pthread_mutex_t mu; /* static string: guards tab */
	struct retstr_intern *tab;
	struct retstr_fn *next_static; /* static string: the fork handler's list */
};

/* Prepares R for a function returning KIND. Every string function shares
 * one thread key (created by the first); a static string function is
 * registered for the fork handler. R must stay at its address until
 * retstr_release(). Returns 0 or TXC_ENOMEM (no thread key left); R is then
 * unusable and retstr_make() fails. */
int retstr_init(struct retstr_fn *r, enum txc_ret kind);

/* Produces in *OUT the char * a hit returns for the result S of LEN bytes
 * (no NUL inside; S NULL gives NULL). Returns 0; TXC_ENOMEM when memory
 * runs out; TXC_ETOOBIG when a static string would pass RETSTR_STATIC_MAX.
 * *OUT is untouched on failure, and nothing is left allocated. */
int retstr_make(struct retstr_fn *r, const char *s, size_t len, char **out);

/* static string: replaces the char * in the return slot RET (a miss's
 * result from the real function) with its interned copy, so that equal
 * results are one pointer whether a miss or a hit produced them. Leaves it
 * as it is for the other kinds, for NULL, and past the bound. */
void retstr_adopt(struct retstr_fn *r, void *ret);

/* Takes back a pointer that retstr_make() produced when the hit fails
 * after it (an owned string is freed; the others stay as they are). */
void retstr_undo(struct retstr_fn *r, char *s);

/* Frees what R holds (interned strings, this thread's buffers) and gives back its share of the
 * bound. Only for tests: the shim never calls it, since callers may hold any pointer R ever
 * returned. */
void retstr_release(struct retstr_fn *r);

/* Bytes interned as static strings in this process (for tests and logs). */
size_t retstr_static_bytes(void);

#endif
