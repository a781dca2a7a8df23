/* stackroom.c - the calling thread's stack bounds, and the room left
 * (stackroom.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "log.h"
#include "stackroom.h"

#define TLS __thread __attribute__((tls_model("initial-exec")))

static TLS uintptr_t t_lo, t_hi; /* 0: not asked yet; t_hi 1: being asked, or unknown */
static TLS unsigned t_tries;
static int g_logged_small, g_logged_foreign, g_logged_unknown;

/* A failure of pthread_getattr_np (it reads /proc/self/maps for the main
 * thread: no memory, no /proc) is retried on later calls, up to this many
 * times. */
#define LEARN_TRIES 64

static void learn_bounds(void)
{
	pthread_attr_t a;
	void *addr;
	size_t size;
	sigset_t all, old;
	/* no handler may run (and siglongjmp out, leaving t_hi "being
	 * learnt" for good) while glibc reads /proc/self/maps */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	t_hi = 1;
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		if (pthread_attr_getstack(&a, &addr, &size) == 0 && addr && size) {
			t_lo = (uintptr_t)addr;
			t_hi = t_lo + size;
		}
		pthread_attr_destroy(&a);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (t_hi == 1 && ++t_tries < LEARN_TRIES)
		t_hi = 0; /* ask again at the next call */
	else if (t_hi == 1)
		log_once(&g_logged_unknown, TXC_LOG_INFO,
			 "a thread's stack bounds are unknown: calls there run uncached");
}

bool stackroom_enough(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (__builtin_expect(t_hi == 0, 0)) {
		int saved = errno;
		learn_bounds();
		errno = saved;
	}
	if (t_hi <= 1) /* being learnt (a call from inside), failed, or unknown */
		return false;
	if (sp > t_lo && sp <= t_hi) {
		if (sp - t_lo >= STACKROOM_NEED)
			return true;
		log_once(&g_logged_small, TXC_LOG_INFO,
			 "a thread's stack has less than 48 KiB left: calls there run uncached");
		return false;
	}
	log_once(&g_logged_foreign, TXC_LOG_INFO,
		 "a call runs on a stack the shim does not know (a coroutine or a signal stack): "
		 "calls there run uncached");
	return false;
}
