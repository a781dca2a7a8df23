/* fpenv.c - the program's floating-point environment around a call
 * (fpenv.h).
 *
 * x86-64: the shim's own code does its floating-point work in SSE (it has
 * no long double), so only MXCSR is held, with stmxcsr/ldmxcsr (a few ns);
 * the x87 unit is left as the program had it, save that its flags are
 * cleared around the real call (fnclex) to see what the call raised there.
 * The generic fenv.h path (fnstenv/fldenv on x86) cost about 290 ns per
 * call, more than a whole near-cache hit. Elsewhere: fenv.h throughout.
 */
#include <stddef.h>

#include "fpenv.h"

#if defined(__x86_64__) && defined(__SSE__) && !defined(TXC_FPENV_GENERIC)

#define MX_FLAGS 0x3f	/* exception flags, the FE_* bits */
#define MX_MASKS 0x1f80 /* trap masks: bit 7 + flag bit */

static unsigned mx_get(void)
{
	unsigned v;
	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void mx_set(unsigned v)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static unsigned x87_flags(void)
{
	unsigned short sw;
	__asm__ volatile("fnstsw %0" : "=am"(sw));
	return sw & MX_FLAGS;
}

/* glibc's x86-64 feraiseexcept, feholdexcept, fesetenv and fegetround,
 * instruction for instruction: they are libm's, and linking libm costs
 * every preloaded program an open, four mmaps, its relocations and about
 * a dozen page faults at start (README "Start-up"). */

/* One exception at a time, overflow and underflow before inexact. */
static void fe_raise(int excepts)
{
	if (excepts & FE_INVALID) {
		float f = 0.0f;
		__asm__ volatile("divss %0, %0" : "+x"(f));
	}
	if (excepts & FE_DIVBYZERO) {
		float f = 1.0f, g = 0.0f;
		__asm__ volatile("divss %1, %0" : "+x"(f) : "x"(g));
	}
	static const int x87_raised[] = {FE_OVERFLOW, FE_UNDERFLOW, FE_INEXACT};
	for (size_t i = 0; i < sizeof(x87_raised) / sizeof(x87_raised[0]); i++) {
		if (!(excepts & x87_raised[i]))
			continue;
		fenv_t temp; /* no instruction sets one flag: through the x87 */
		__asm__ volatile("fnstenv %0" : "=m"(temp));
		temp.__status_word |= (unsigned short)x87_raised[i];
		__asm__ volatile("fldenv %0" : : "m"(temp));
		__asm__ volatile("fwait");
	}
}

void fpenv_hold(fenv_t *saved)
{
	/* fnstenv also masks every x87 trap */
	__asm__ volatile("fnstenv %0\n\tstmxcsr %1\n\tfnclex" : "=m"(*saved), "=m"(saved->__mxcsr));
	mx_set((saved->__mxcsr | MX_MASKS) & ~(unsigned)MX_FLAGS);
}

#define X87_KEPT (FE_ALL_EXCEPT | FE_TOWARDZERO | 0x300) /* masks, rounding, precision */

void fpenv_restore(const fenv_t *saved)
{
	fenv_t temp; /* the current tags and stack top stay, as fesetenv does */
	__asm__ volatile("fnstenv %0\n\tstmxcsr %1" : "=m"(temp), "=m"(temp.__mxcsr));
	temp.__control_word = (unsigned short)((temp.__control_word & ~X87_KEPT) |
					       (saved->__control_word & X87_KEPT));
	temp.__status_word = (unsigned short)((temp.__status_word & ~FE_ALL_EXCEPT) |
					      (saved->__status_word & FE_ALL_EXCEPT));
	temp.__eip = saved->__eip;
	temp.__cs_selector = saved->__cs_selector;
	temp.__opcode = saved->__opcode;
	temp.__data_offset = saved->__data_offset;
	temp.__data_selector = saved->__data_selector;
	temp.__mxcsr = saved->__mxcsr;
	__asm__ volatile("fldenv %0\n\tldmxcsr %1" : : "m"(temp), "m"(temp.__mxcsr));
}

int fpenv_round(void)
{
	unsigned short cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	return cw & FE_TOWARDZERO;
}

void fpenv_enter(struct fpenv *fe)
{
	fe->mx = mx_get();
	fe->had = (int)(fe->mx & FE_ALL_EXCEPT); /* the x87's: at the real call */
	fe->raised = 0;
	fe->called = false;
	fe->hit_raised = 0;
	fe->hit = false;
	/* held: with every trap masked already, what the shim raises only
	 * sets flags, and fpenv_leave loads the program's MXCSR again */
	if ((fe->mx & MX_MASKS) != MX_MASKS)
		mx_set((fe->mx | MX_MASKS) & ~(unsigned)MX_FLAGS);
}

void fpenv_real_begin(struct fpenv *fe)
{
	unsigned x87 = x87_flags(); /* the shim's own work leaves the x87 alone */
	if (x87) {
		fe->had |= (int)(x87 & FE_ALL_EXCEPT);
		__asm__ volatile("fnclex");
	}
	mx_set(fe->mx & ~(unsigned)MX_FLAGS); /* the program's traps, rounding */
}

void fpenv_real_end(struct fpenv *fe)
{
	unsigned after = mx_get();
	fe->raised |= (int)((after | x87_flags()) & FE_ALL_EXCEPT);
	fe->after_mx = after; /* the call's own mode changes stay */
	fe->called = true;
	mx_set((after | MX_MASKS) & ~(unsigned)MX_FLAGS);
}

void fpenv_leave(const struct fpenv *fe)
{
	if (fe->hit) {
		int trapped = fe->hit_raised & (int)~(fe->mx >> 7) & FE_ALL_EXCEPT;
		mx_set(fe->mx | (unsigned)(fe->hit_raised & ~trapped));
		if (trapped) /* SIGFPE, as the real call's */
			fe_raise(trapped);
		return;
	}
	/* the program's earlier flags, those the x87 held included, are set
	 * in MXCSR (fetestexcept reads both): setting a flag never traps */
	unsigned base = fe->called ? fe->after_mx | (fe->mx & MX_FLAGS) : fe->mx;
	mx_set(base | (unsigned)fe->had);
}

#else /* fenv.h */

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

void fpenv_real_begin(struct fpenv *fe)
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

void fpenv_leave(const struct fpenv *fe)
{
	if (fe->hit) {
		fesetenv(&fe->prog);
		if (fe->hit_raised) /* traps, when the program enabled them */
			feraiseexcept(fe->hit_raised);
		return;
	}
	/* the call's own traps already fired during it: set, do not raise */
	fesetenv(fe->called ? &fe->after : &fe->prog);
	if (fe->called && fe->had) /* sets only the program's flags */
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

int fpenv_round(void)
{
	return fegetround();
}

#endif

void fpenv_set_hit(struct fpenv *fe, uint8_t raised_port)
{
	fe->hit = true;
	fe->hit_raised = fpenv_from_portable(raised_port);
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
