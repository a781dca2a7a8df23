/* cond.h - the condition language of cache_if and outs_if.
 *
 *   cache_if = ret < 18446744073709551000
 *   outs_if  = ret >= 0 and (errno == 0 or *count > 0)
 *
 * A condition is one or more comparisons OPERAND OP LITERAL joined with
 * "and" / "or" ("and" binds tighter) and grouped with parentheses, at most
 * TXC_COND_MAX_TERMS comparisons and TXC_COND_MAX_DEPTH levels of nesting.
 * Operands: ret (a scalar or string return), errno (an int: what the real
 * call set, 0 when it left errno alone), *NAME (an out scalar parameter by
 * its name; a NULL pointer makes that comparison false, whatever OP is).
 * OP is one of == != < <= > >=. Literals are read in the operand's own
 * type: integers in decimal (a sign only for signed types) or hex 0x..,
 * every value of the type and no other; floats (and integers) for float
 * and double; NULL for a string return, with == and != only.
 * Comparisons are exact in the operand's domain: uint64 over its full
 * range, int64, narrower types as themselves; float and double compare as
 * double, and a NaN satisfies only !=.
 *
 * Parsed once when the config is loaded into a plain value (no heap, copy
 * freely); evaluation allocates nothing and cannot fail.
 */
#ifndef TXC_COND_H
#define TXC_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "sig.h"

#define TXC_COND_MAX_TERMS 16
#define TXC_COND_MAX_DEPTH 8

enum txc_cmp { TXC_CMP_EQ, TXC_CMP_NE, TXC_CMP_LT, TXC_CMP_LE, TXC_CMP_GT, TXC_CMP_GE };

enum txc_cond_src { TXC_CS_RET, TXC_CS_ERRNO, TXC_CS_OUT };

/* One comparison. */
struct txc_cond_term {
	uint64_t lit;  /* integers: portable form of the type (sig.h); float, double:
			* the literal's IEEE double bits */
	uint8_t src;   /* enum txc_cond_src */
	uint8_t param; /* TXC_CS_OUT: index of the out scalar */
	uint8_t type;  /* enum txc_type of the operand; TXC_T_VOID: a string return */
	uint8_t op;    /* enum txc_cmp */
};

/* The whole condition, as postfix: each prog byte is a term index, or
 * TXC_COND_AND / TXC_COND_OR combining the two values before it. */
#define TXC_COND_AND 0xfe
#define TXC_COND_OR  0xff
struct txc_cond {
	bool set; /* false: holds for every result */
	uint8_t nterms;
	uint8_t nprog;
	struct txc_cond_term terms[TXC_COND_MAX_TERMS];
	uint8_t prog[2 * TXC_COND_MAX_TERMS - 1];
};

/* Parses TEXT against SIG into *OUT. Returns 0, or TXC_EINVAL with a
 * one-line reason (no key, file or line: the caller adds those) in ERR of
 * ERRCAP bytes, NUL-terminated; *OUT is then unset (out->set false). */
int cond_parse(const char *text, const struct txc_sig *sig, struct txc_cond *out, char *err,
	       size_t errcap);

/* True when RES (the real call's result as result_collect() read it, with
 * err_set/err filled in, under the signature C was parsed with) satisfies
 * C; always true when C is unset. */
bool cond_holds(const struct txc_cond *c, const struct txc_result *res);

#endif
