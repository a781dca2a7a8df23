/* stackroom.h - is there stack enough for the shim's own work?
 *
 * A thread created with a small stack (PTHREAD_STACK_MIN is 16 KiB) runs
 * the real function fine, but the shim's hit and miss paths need about
 * 24 to 28 KiB more (libmemcached, the codec, logging); over that the host
 * would die of a stack overflow. Before any work the closure asks here,
 * and below STACKROOM_NEED bytes it calls the real function uncached.
 *
 * The thread's stack bounds come from pthread_getattr_np once per thread
 * (the main thread's from the stack rlimit, as glibc reports it). A stack
 * pointer outside them (a coroutine's stack from makecontext, an alternate
 * signal stack) is a stack whose size the shim cannot know: not enough.
 * Each case is logged once per process, at info. A call made while the
 * bounds are being read (from inside pthread_getattr_np) runs uncached; a
 * failed read is retried at the thread's next calls, 64 times at most,
 * then that thread runs uncached (logged once). Signals are blocked while
 * the bounds are read: a handler that siglongjmps out of it (a timeout
 * timer) left the thread uncached for good before.
 */
#ifndef TXC_STACKROOM_H
#define TXC_STACKROOM_H

#include <stdbool.h>

#define STACKROOM_NEED (48 * 1024) /* measured need: 28 KiB (a first miss) */

/* True when the calling thread's stack has STACKROOM_NEED bytes left
 * below the caller's frame. Async-signal-safe after the thread's first
 * call; keeps errno. */
bool stackroom_enough(void);

#endif
