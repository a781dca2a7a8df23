/* prof_tramp.h - profile mode's generic timing trampolines: time a call of
 * any function without knowing its signature.
 *
 * Each function (one entry per definition: its address) gets a stub in an
 * mmap'ed page, written once and then made read+execute: `push $index;
 * jmp *common`. The common entry (prof_tramp.S) saves the argument
 * registers, asks prof_tramp_enter here, which pushes {return slot,
 * original return address, start time} on a per-thread shadow stack, and
 * replaces the caller's return address with the return trampoline; that
 * one asks prof_tramp_exit, which pops the entry, adds the time to the
 * function's counters and gives back the original return address.
 *
 * Frames a longjmp skipped are popped at the next return whose slot lies
 * above theirs; an entry is looked up by its slot address, so calls on
 * other stacks (sigaltstack, coroutines) interleave. With the shadow stack
 * full (PROF_DEPTH deep) a call is neither timed nor counted: the stub
 * jumps straight to the real function.
 *
 * Limits (README "txcache profile"): x86_64 only; an unwinder cannot
 * cross a timed frame, whose return address is the trampoline: the
 * functions that start one get PROF_TRAMP_REPAIR stubs, but an unwind
 * started elsewhere (asynchronous thread cancellation, a throw inside a
 * module the shim does not patch) meets it and stops the program; AVX arguments wider than 128 bits
 * (__m256) keep only their low half across the hook; a stack copied and resumed elsewhere (some
 * green threads) is not followed.
 */
#ifndef TXC_PROF_TRAMP_H
#define TXC_PROF_TRAMP_H

#include <stdbool.h>
#include <stdint.h>

#define PROF_DEPTH 512	 /* shadow stack entries per thread */
#define PROF_MAX   65536 /* functions with a stub per process */

/* Untimed: the stub calls the flush callback, then jumps to the function
 * (exec and _exit, so that the counters reach the report first). */
#define PROF_TRAMP_FLUSH 1u
/* Untimed: the stub first gives the live timed frames above the caller
 * their real return addresses back (and forgets them), then jumps to the
 * function: for the functions that start an unwind (C++ throw,
 * _Unwind_Resume, pthread_exit), so that the unwinder never meets the
 * return trampoline. Those frames are then neither timed nor counted. */
#define PROF_TRAMP_REPAIR 2u

/* 1 on x86_64, where the stubs work; 0 elsewhere (every call below then
 * returns NULL / does nothing). */
int prof_tramp_supported(void);

/* The stub of the definition REAL (made on first use; NAME, copied, is
 * the import's name). NULL when REAL is a stub already, the table is full
 * or memory cannot be had. Thread-safe (a mutex: never from a signal
 * handler). */
void *prof_tramp_make(const char *name, void *real, unsigned flags);

/* True when ADDR is one of the stubs. Lock-free. */
bool prof_tramp_is_stub(const void *addr);

/* What FLUSH stubs call. Set once, before the first stub is made. */
void prof_tramp_set_flush(void (*fn)(void));

/* Calls FN for each function called since the last drain, with its calls
 * and total nanoseconds, and zeroes them (one atomic exchange each: a call
 * finishing meanwhile is counted in this drain or the next, never twice). */
typedef void (*prof_tramp_each_fn)(void *ctx, const char *name, void *real, uint64_t calls,
				   uint64_t ns);
void prof_tramp_drain(prof_tramp_each_fn fn, void *ctx);

/* Zeroes every counter (a fork child counts its own calls). */
void prof_tramp_zero(void);

#endif
