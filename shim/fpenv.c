/* fpenv.c - the program's floating-point environment around a call
 * (fpenv.h). */
#include "fpenv.h"

void fpenv_enter(struct fpenv *fe)
{
	fe->raised = 0;
	fe->called = false;
	fe->hit_raised = 0;
	fe->hit = false;
	fe->had = fetestexcept(FE_ALL_EXCEPT);
	fegetexceptflag(&fe->flags, FE_ALL_EXCEPT);
	feholdexcept(&fe->prog); /* flags clear, traps masked */
}

void fpenv_real_begin(const struct fpenv *fe)
{
	/* the program's traps and rounding; its flags stay out so that what
	 * the call raises is seen (fpenv_leave adds them back) */
	fesetenv(&fe->prog);
	feclearexcept(FE_ALL_EXCEPT);
}

void fpenv_real_end(struct fpenv *fe)
{
	fe->raised |= fetestexcept(FE_ALL_EXCEPT);
	fe->called = true;
	feholdexcept(&fe->after); /* what the call left; the shim holds again */
}

void fpenv_set_hit(struct fpenv *fe, uint8_t raised_port)
{
	fe->hit = true;
	fe->hit_raised = fpenv_from_portable(raised_port);
}

void fpenv_leave(const struct fpenv *fe)
{
	if (fe->hit) {
		fesetenv(&fe->prog);
		if (fe->hit_raised) /* traps, when the program enabled them */
			feraiseexcept(fe->hit_raised);
		return;
	}
	if (!fe->called) {
		fesetenv(&fe->prog);
		return;
	}
	/* the call's own traps already fired during it: set, do not raise */
	fesetenv(&fe->after);
	if (fe->had) /* sets only the program's flags; the call's stay */
		fesetexceptflag(&fe->flags, fe->had);
}

void fpenv_hold(fenv_t *saved)
{
	feholdexcept(saved);
}

void fpenv_restore(const fenv_t *saved)
{
	fesetenv(saved);
}

uint8_t fpenv_to_portable(int fe)
{
	return (uint8_t)(((fe & FE_INEXACT) ? 1 : 0) | ((fe & FE_UNDERFLOW) ? 2 : 0) |
			 ((fe & FE_OVERFLOW) ? 4 : 0) | ((fe & FE_DIVBYZERO) ? 8 : 0) |
			 ((fe & FE_INVALID) ? 16 : 0));
}

int fpenv_from_portable(uint8_t bits)
{
	return ((bits & 1) ? FE_INEXACT : 0) | ((bits & 2) ? FE_UNDERFLOW : 0) |
	       ((bits & 4) ? FE_OVERFLOW : 0) | ((bits & 8) ? FE_DIVBYZERO : 0) |
	       ((bits & 16) ? FE_INVALID : 0);
}
