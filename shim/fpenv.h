/* fpenv.h - the program's floating-point environment around one
 * intercepted call.
 *
 * The shim's own work (keys, codec, logging, timing) runs with the
 * program's exception flags held and its traps masked (feholdexcept), so it
 * can neither raise a flag the program sees nor trap. The real function runs
 * with the program's traps and rounding mode and the flags clear, so what
 * it raises is known exactly (the feholdexcept/feupdateenv idiom). At the
 * end the program gets: after a real call, the environment the call left
 * plus the flags it had before; after a hit, its own environment and then
 * feraiseexcept of the flags the real call raised, with its own traps, so a
 * trapping program traps as it would have. The rounding mode is never
 * changed by the shim: keys read it (key.h).
 *
 * None of these fail (the fenv functions cannot fail for valid arguments on
 * the supported targets); none touch errno.
 */
#ifndef TXC_FPENV_H
#define TXC_FPENV_H

#include <fenv.h>
#include <stdbool.h>
#include <stdint.h>

struct fpenv {
#if defined(__x86_64__) && defined(__SSE__) && !defined(TXC_FPENV_GENERIC)
	unsigned mx;	   /* the program's MXCSR at entry */
	unsigned after_mx; /* MXCSR as the real call left it */
#else
	fenv_t prog;	 /* the program's environment at entry */
	fexcept_t flags; /* the program's flags at entry */
	fenv_t after;	 /* the environment a real call left (when called) */
#endif
	int had;	/* the program's flags at entry (FE_*) */
	int raised;	/* the flags the real call(s) raised (FE_*) */
	bool called;	/* a real call ran */
	int hit_raised; /* a hit: the flags its real call raised (FE_*) */
	bool hit;	/* the call was answered from the cache */
};

/* At entry of the handler: saves the program's environment, then holds. */
void fpenv_enter(struct fpenv *fe);

/* Around the real call: the program's traps and rounding, flags clear;
 * then back to held, recording what the call raised and left. */
void fpenv_real_begin(struct fpenv *fe);
void fpenv_real_end(struct fpenv *fe);

/* A hit answered the call with a value whose real call raised RAISED_PORT
 * (the portable bits of fpenv_to_portable). */
void fpenv_set_hit(struct fpenv *fe, uint8_t raised_port);

/* At exit: installs what the program must see (see above). */
void fpenv_leave(const struct fpenv *fe);

/* For the shim's other entries (the API, the exit report): hold, do the
 * work, restore: the program sees its environment unchanged. */
void fpenv_hold(fenv_t *saved);
void fpenv_restore(const fenv_t *saved);

/* The current rounding mode (FE_TONEAREST...), as fegetround(). On x86-64
 * these three are glibc's code inline, so that the shim needs no libm. */
int fpenv_round(void);

/* The flags FE (FE_* bits of this machine) as portable bits stored in a
 * value: 1 inexact, 2 underflow, 4 overflow, 8 divide by zero, 16 invalid;
 * and back. Unknown bits are dropped. */
uint8_t fpenv_to_portable(int fe);
int fpenv_from_portable(uint8_t bits);

#endif
