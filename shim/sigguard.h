/* sigguard.h - cached functions called from signal handlers go straight to
 * the real function.
 *
 * A handler may interrupt the host anywhere, in its own malloc included.
 * The shim's hit and miss paths are not async-signal-safe (they allocate,
 * lock and talk to memcached), so a configured function called from a
 * handler must not take them. sigguard_arm() points the sigaction, signal,
 * sysv_signal, bsd_signal and sigset GOT slots of every patched module at
 * wrappers that install a trampoline in place of each handler; the
 * trampoline marks the thread "in a handler" around the host's handler.
 * What the host reads back (old actions, signal()'s return) is always its
 * own handler, never the trampoline.
 *
 * A handler left by longjmp/siglongjmp (a common way out of SIGSEGV or
 * SIGALRM handlers) never runs the trampoline's epilogue: the mark is
 * therefore also tied to the trampoline's stack frame (and a token in it),
 * and a check from a frame outside it (the thread is back below the
 * handler), off the alternate stack the handler ran on, or after the token
 * was written over clears it.
 *
 * While the thread does the shim's own work (guard.h), the trampoline does
 * not run the host's handler at all: it defers the signal, which is sent
 * again when that work pauses or ends. Faults and one-shot handlers
 * (SA_RESETHAND, sysv_signal) are never deferred.
 *
 * Writes made while the thread is in a handler are not captured
 * (capture.h): they are not the interrupted function's output.
 *
 * Not covered: handlers installed before the shim's constructor ran, by
 * direct syscalls, or from a module that is never patched (libc itself,
 * the shim's dependencies); calls from those handlers take the normal path.
 */
#ifndef TXC_SIGGUARD_H
#define TXC_SIGGUARD_H

#include <stdbool.h>

/* Depth of trampolines active in this thread (nonzero: maybe in a handler). */
extern __thread int sigguard_depth __attribute__((tls_model("initial-exec")));

/* Handlers the shim wrapped that this thread has entered so far: a call
 * during which it moved was disturbed by a signal (its errno may be the
 * interruption's, EINTR, not the function's). */
extern __thread unsigned sigguard_runs __attribute__((tls_model("initial-exec")));

/* Slow path of sigguard_in_handler(); clears a mark left by a longjmp. */
bool sigguard_check(void);

/* True when the calling thread runs inside a handler the shim wrapped: the
 * caller must call the real function and nothing else. Async-signal-safe. */
static inline bool sigguard_in_handler(void)
{
	return __builtin_expect(sigguard_depth != 0, 0) && sigguard_check();
}

/* Patches every loaded module's signal-installing slots (again after each
 * dlopen: calling it twice is harmless). Returns 0 or a negative code;
 * without it handlers simply run unguarded. */
int sigguard_arm(void);

#endif
