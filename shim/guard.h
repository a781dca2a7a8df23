/* guard.h - the per-thread "the shim is at work" state: re-entry and
 * signals.
 *
 * While a closure runs the shim's own work (key, lookup, store, replay) the
 * thread holds the guard. Then:
 *  - a configured function reached meanwhile (from libmemcached, malloc,
 *    the shim's own writes) goes straight to the real function: guard_enter
 *    returns false while the owner is alive;
 *  - a host signal handler that sigguard wrapped is deferred: the
 *    trampoline records the signal (guard_defer) and the guard re-sends it
 *    to the thread, with the same siginfo, as soon as the shim's work pauses
 *    (the real call of a miss) or ends. A handler that longjmps out (the
 *    usual timeout pattern) therefore never leaves a lock held, a
 *    libmemcached handle half-way through a reply, or the guard set.
 *    Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS raised by the
 *    kernel) are never deferred.
 * A handler the shim did not wrap can still leave by longjmp while the
 * guard is held. The owner (a struct guard_owner in the closure's stack
 * frame, holding a token) is then gone: the next guard_enter sees that its
 * own frame is at or above the owner's, or that the owner's token changed,
 * takes the guard over and logs once per process. Nested legitimate
 * re-entry always runs below a live owner, or on the alternate signal
 * stack, and is never taken for a dead owner.
 */
#ifndef TXC_GUARD_H
#define TXC_GUARD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* Lives in the frame of the function that holds the guard. */
struct guard_owner {
	volatile uint64_t token;
};

/* Takes the guard for OWN. Returns true when taken (the caller must call
 * guard_leave), false when a live owner holds it (call the real function
 * and nothing else). *TOOK_OVER tells that a dead owner held it: whatever
 * per-thread state its work was changing (a memcached handle in the middle
 * of a request) must be dropped. errno is preserved. */
bool guard_enter(struct guard_owner *own, bool *took_over);

/* Releases the guard and delivers the signals deferred meanwhile (their
 * handlers run before it returns). errno is preserved. */
void guard_leave(void);

/* Around the real call of a miss, and wherever the shim's work may wait
 * while holding nothing (a replay's blocking write, the stampede lock's
 * sleeps): the real function's own configured calls may be cached, and
 * deferred signals are delivered first, then as they come. guard_pause
 * returns what guard_resume needs to take the guard back for the same
 * owner (0 when the guard was not held: guard_resume(0) does nothing).
 * errno is preserved. */
uintptr_t guard_pause(void);
void guard_resume(uintptr_t owner);

/* For the signal trampolines: when the calling thread holds the guard and
 * SIG is not a fault, records SIG (and SI, may be NULL) to be sent again
 * later and returns true: the host's handler must not run now.
 * Async-signal-safe. */
bool guard_defer(int sig, const siginfo_t *si);

/* True when the calling thread runs on its alternate signal stack
 * (sigaltstack). One system call; async-signal-safe; errno is preserved. */
bool guard_on_altstack(void);

#endif
