/* test_fpenv.c - the program's floating-point environment around a call
 * (shim/fpenv.h): the shim's own work leaves no flag and cannot trap; a
 * real call's flags are seen and added to the program's; a hit sets the
 * stored flags, and raises (traps) those the program traps. */
#include <fenv.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "check.h"
#include "fpenv.h"

static volatile double g_one = 1.0, g_three = 3.0, g_zero = 0.0;
static volatile double g_sink;
static sigjmp_buf g_jb;

/* Arithmetic that raises FE_INEXACT, as the shim's own timing and logging. */
static void shim_work(void)
{
	g_sink = g_one / g_three;
}

static void on_fpe(int sig)
{
	(void)sig;
	siglongjmp(g_jb, 1);
}

static void test_miss(void)
{
	struct fpenv fe;
	feclearexcept(FE_ALL_EXCEPT);
	feraiseexcept(FE_INVALID); /* the program's own flag */
	fpenv_enter(&fe);
	shim_work();
	fpenv_real_begin(&fe);
	CHECK(fetestexcept(FE_ALL_EXCEPT) == 0, "the real call starts with the flags clear");
	g_sink = g_one / g_zero; /* the real call: FE_DIVBYZERO */
	fpenv_real_end(&fe);
	shim_work();
	CHECK(fe.raised == FE_DIVBYZERO, "what the call raised: FE_DIVBYZERO only (%#x)",
	      fe.raised);
	fpenv_leave(&fe);
	CHECK(fetestexcept(FE_ALL_EXCEPT) == (FE_INVALID | FE_DIVBYZERO),
	      "after a miss: the program's flag and the call's, not the shim's");
}

static void test_hit(void)
{
	struct fpenv fe;
	feclearexcept(FE_ALL_EXCEPT);
	fpenv_enter(&fe);
	shim_work();
	fpenv_set_hit(&fe, fpenv_to_portable(FE_OVERFLOW | FE_INEXACT));
	fpenv_leave(&fe);
	CHECK(fetestexcept(FE_ALL_EXCEPT) == (FE_OVERFLOW | FE_INEXACT),
	      "a hit sets the stored flags");
	feclearexcept(FE_ALL_EXCEPT);
	fpenv_enter(&fe);
	shim_work();
	fpenv_leave(&fe);
	CHECK(fetestexcept(FE_ALL_EXCEPT) == 0, "no call, no hit: no flag");
}

static void test_traps(void)
{
	struct fpenv fe;
	volatile int trapped = 0;
	signal(SIGFPE, on_fpe);
	feclearexcept(FE_ALL_EXCEPT);
	feenableexcept(FE_INEXACT);
	if (sigsetjmp(g_jb, 1) == 0) {
		fpenv_enter(&fe);
		shim_work();
		fpenv_set_hit(&fe, 0);
		fpenv_leave(&fe);
	} else {
		trapped = 1;
	}
	CHECK(!trapped, "the shim's own work does not trap FE_INEXACT");
	CHECK(fegetexcept() == FE_INEXACT, "the program's traps are back");
	if (sigsetjmp(g_jb, 1) == 0) {
		fpenv_enter(&fe);
		fpenv_set_hit(&fe, fpenv_to_portable(FE_INEXACT));
		fpenv_leave(&fe);
	} else {
		trapped = 1;
	}
	fedisableexcept(FE_ALL_EXCEPT);
	CHECK(trapped, "a hit whose call raised FE_INEXACT traps a program trapping it");
	signal(SIGFPE, SIG_DFL);
}

static void test_portable(void)
{
	int all = FE_INEXACT | FE_UNDERFLOW | FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID;
	CHECK(fpenv_to_portable(all) == 0x1f, "portable bits");
	CHECK(fpenv_to_portable(FE_INEXACT) == 1 && fpenv_to_portable(FE_INVALID) == 16,
	      "inexact 1, invalid 16");
	CHECK(fpenv_from_portable(0x1f) == all && fpenv_from_portable(0xe0) == 0,
	      "back, unknown bits dropped");
}

/* fpenv_round, fpenv_hold and fpenv_restore stand in for libm's
 * fegetround, feholdexcept and fesetenv (x86-64: the shim links no libm):
 * each must leave what libm's leaves, in every rounding mode and with
 * flags and traps set. */
static void test_libm_equivalents(void)
{
	static const int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		fesetround(modes[i]);
		CHECK(fpenv_round() == fegetround(), "fpenv_round is fegetround");
		shim_work(); /* a flag set */
		feenableexcept(FE_DIVBYZERO);
		fenv_t mine, theirs, after_mine, after_theirs;
		memset(&mine, 0, sizeof(mine));
		memset(&theirs, 0, sizeof(theirs));
		fpenv_hold(&mine);
		fegetenv(&after_mine);
		fesetenv(&mine);
		feholdexcept(&theirs);
		fegetenv(&after_theirs);
		CHECK(memcmp(&mine, &theirs, sizeof(mine)) == 0,
		      "fpenv_hold saves as feholdexcept");
		CHECK(memcmp(&after_mine, &after_theirs, sizeof(mine)) == 0,
		      "fpenv_hold leaves what feholdexcept leaves");
		CHECK(fetestexcept(FE_ALL_EXCEPT) == 0, "held: no flag");
		fpenv_restore(&theirs);
		fegetenv(&after_mine);
		feholdexcept(&mine);
		fesetenv(&theirs);
		fegetenv(&after_theirs);
		CHECK(memcmp(&after_mine, &after_theirs, sizeof(mine)) == 0,
		      "fpenv_restore installs what fesetenv installs");
		CHECK(fetestexcept(FE_INEXACT) && fegetround() == modes[i] &&
			  (fegetexcept() & FE_DIVBYZERO),
		      "restored: the flag, the rounding mode and the trap are back");
		fedisableexcept(FE_ALL_EXCEPT);
		feclearexcept(FE_ALL_EXCEPT);
	}
	fesetround(FE_TONEAREST);
}

int main(void)
{
	test_libm_equivalents();
	test_miss();
	test_hit();
	test_traps();
	test_portable();
	return check_done();
}
