/* test_guard.c - the re-entry guard (shim/guard.h): a live owner turns
 * nested entries away, an owner left by longjmp does not, and signals
 * deferred under the guard arrive after it, with their siginfo. */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "guard.h"

static jmp_buf g_env;
static int g_nested_taken = -1;

/* A nested entry, as the shim's own work reaching a configured function. */
static __attribute__((noinline)) void nested(void)
{
	struct guard_owner own;
	bool over;
	g_nested_taken = guard_enter(&own, &over);
	if (g_nested_taken)
		guard_leave();
}

/* Takes the guard, enters again below it, then leaves by longjmp (as a
 * signal handler's siglongjmp would) while still holding it. */
static __attribute__((noinline)) void owner_then_jump(void)
{
	struct guard_owner own;
	bool over;
	if (!guard_enter(&own, &over))
		return;
	nested();
	longjmp(g_env, 1);
}

static bool g_over;

static __attribute__((noinline)) int entry(void)
{
	struct guard_owner own;
	int taken = guard_enter(&own, &g_over);
	if (taken)
		guard_leave();
	return taken;
}

static volatile sig_atomic_t g_ran, g_value;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (guard_defer(sig, si))
		return;
	g_ran++;
	g_value = si->si_value.sival_int;
}

static void test_defer(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	struct guard_owner own;
	bool over;
	CHECK(guard_enter(&own, &over), "guard taken");
	sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 42});
	CHECK(g_ran == 0, "a signal under the guard is deferred");
	guard_leave();
	CHECK(g_ran == 1, "it is delivered when the guard is released");
	CHECK(g_value == 42, "with its siginfo (value %d)", (int)g_value);
	CHECK(guard_enter(&own, &over), "guard taken again");
	uintptr_t o = guard_pause();
	sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 7});
	CHECK(g_ran == 2 && g_value == 7, "a paused guard defers nothing");
	guard_resume(o);
	g_nested_taken = -1;
	nested();
	CHECK(g_nested_taken == 0, "resumed: the owner holds it again");
	guard_leave();
}

int main(void)
{
	CHECK(entry() == 1 && !g_over, "a first entry takes the guard");
	if (setjmp(g_env) == 0)
		owner_then_jump();
	CHECK(g_nested_taken == 0, "an entry below a live owner is turned away");
	CHECK(entry() == 1 && g_over,
	      "after the owner left by longjmp, the next entry takes it over");
	CHECK(entry() == 1 && !g_over, "and the guard was released after it");
	test_defer();
	return check_done();
}
