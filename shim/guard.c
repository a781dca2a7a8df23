/* guard.c - the re-entry guard and the signals deferred under it (guard.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"

#define TLS __thread __attribute__((tls_model("initial-exec")))

static TLS volatile sig_atomic_t g_held;
static TLS uintptr_t g_owner; /* the holder's struct guard_owner */
static TLS uint64_t g_token;
static TLS uint64_t g_seq;

/* Signals deferred while the guard was held, in arrival order. A standard
 * signal is kept once, as the kernel keeps it pending once. */
#define PENDING_MAX 8
struct pending {
	int sig;
	bool has_info;
	siginfo_t info;
};
static TLS struct pending g_pending[PENDING_MAX];
static TLS volatile sig_atomic_t g_npending;

static int g_logged;

bool guard_on_altstack(void)
{
	stack_t ss;
	int saved = errno;
	bool on = sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
	errno = saved;
	return on;
}

/* The holder called everything that runs while it is alive: a live owner's
 * frame is above OWN's and still holds the token. The token read may hit
 * stack memory that is no longer the owner's: mapped (this thread's stack),
 * and then simply a mismatch. A handler on the alternate stack interrupted
 * a live owner (or is its own work): its addresses say nothing, so it is
 * taken as nested. */
static __attribute__((noinline, no_sanitize_address)) bool
owner_alive(const struct guard_owner *own)
{
	const struct guard_owner *o = (const struct guard_owner *)g_owner;
	if (g_owner > (uintptr_t)own && o->token == g_token)
		return true;
	return guard_on_altstack();
}

static void take(struct guard_owner *own)
{
	own->token = ++g_seq ^ ((uint64_t)(uintptr_t)own << 16);
	g_token = own->token;
	g_owner = (uintptr_t)own;
	g_held = 1;
}

bool guard_enter(struct guard_owner *own, bool *took_over)
{
	*took_over = false;
	if (!g_held) {
		take(own);
		return true;
	}
	bool alive = owner_alive(own);
	if (!alive)
		log_once(&g_logged, TXC_LOG_WARN,
			 "a signal handler left the shim's work by longjmp; caching goes on in "
			 "this thread");
	if (alive)
		return false;
	*took_over = true;
	take(own);
	return true;
}

static bool is_fault(int sig, const siginfo_t *si)
{
	bool fault = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
		     sig == SIGTRAP || sig == SIGSYS;
	/* without siginfo, one of these may be the kernel's: never hold it */
	return fault && (!si || si->si_code > 0);
}

bool guard_defer(int sig, const siginfo_t *si)
{
#ifdef TXC_MUTANT_DEFER /* make mutants: handlers run in the middle of the shim's work */
	return false;
#endif
	if (!g_held || is_fault(sig, si))
		return false;
	int n = g_npending;
	for (int i = 0; sig < SIGRTMIN && i < n; i++)
		if (g_pending[i].sig == sig)
			return true;
	if (n == PENDING_MAX)
		return true; /* RT signals beyond the queue merge into the last */
	/* the slot is claimed first: a handler nested in this one takes the next */
	g_pending[n].sig = sig;
	g_pending[n].has_info = false;
	g_npending = n + 1;
	if (si) {
		memcpy(&g_pending[n].info, si, sizeof(*si));
		g_pending[n].has_info = true;
	}
	return true;
}

/* Sends the deferred signals to this thread again, with their siginfo. They
 * are blocked while sent so that all are queued before the first handler
 * runs (a handler may longjmp out of here); restoring the mask delivers
 * them, in the kernel's order. */
static void deliver(void)
{
	int saved = errno, n = g_npending;
	sigset_t set, old;
	sigemptyset(&set);
	for (int i = 0; i < n; i++)
		sigaddset(&set, g_pending[i].sig);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
	for (int i = 0; i < n; i++) {
		struct pending *p = &g_pending[i];
		if (p->has_info && syscall(SYS_rt_tgsigqueueinfo, pid, tid, p->sig, &p->info) == 0)
			continue;
		syscall(SYS_tgkill, pid, tid, p->sig);
	}
	g_npending = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
}

void guard_leave(void)
{
	g_held = 0;
	if (__builtin_expect(g_npending != 0, 0))
		deliver();
}

uintptr_t guard_pause(void)
{
	if (!g_held)
		return 0;
	uintptr_t owner = g_owner;
	guard_leave();
	return owner;
}

void guard_resume(uintptr_t owner)
{
	if (!owner)
		return;
	g_owner = owner;
	g_token = ((const struct guard_owner *)owner)->token;
	g_held = 1;
}
