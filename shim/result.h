/* result.h - one call's result as libffi hands it over: the return slot,
 * the out-parameters. Used by dispatch on both paths.
 *
 * Nothing here allocates or fails halfway: a hit checks every out-buffer
 * with result_outs_fit() before result_outs_write() touches any of them.
 */
#ifndef TXC_RESULT_H
#define TXC_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "config.h"
#include "sig.h"

/* The return value in RET (libffi's slot) in portable form; RET must hold
 * a TXC_R_SCALAR of SIG. Integers narrower than ffi_arg are read widened. */
uint64_t result_ret_load(const struct txc_sig *sig, const void *ret);

/* Writes the portable V into RET as libffi expects a closure to return it. */
void result_ret_store(const struct txc_sig *sig, uint64_t v, void *ret);

/* Returns 0 when every present out-value of RES is what the real function
 * would write for the capacities in ARGS. TXC_ERANGE (the real function
 * runs) when one does not fit, when one may have been cut short by the
 * capacity it was stored with (it filled that capacity, or an integer
 * return value reached it) and the caller's capacity differs, or when an
 * out bytes[CAP:param] holds another length than this call's LEN gives.
 * TXC_ECORRUPT when the NULL-ness of a pointer differs from what was stored,
 * or when an out bytes[CAP:param] length contradicts LEN and CAP that are
 * both in the key. */
int result_outs_fit(const struct txc_sig *sig, void **args, const struct txc_result *res);

/* Copies RES's out-values into the caller's buffers (after result_outs_fit).
 * A result stored without them (RES->outs_dropped, outs_if) writes none and
 * fits any buffers: the caller's keep what they held. */
void result_outs_write(const struct txc_sig *sig, void **args, const struct txc_result *res);

/* Fills RES from the real call's RET and out-buffers, with each buffer's
 * capacity; pointers borrow the caller's memory. ENTRY holds the key's
 * arguments taken before the call (key_args_from_ffi): a CAP read through
 * a pointer ("*destLen") is its value there (NULL: 0, as through a NULL
 * pointer); the LEN of out bytes[*n] is *n after the call. errno is not touched:
 * the caller sets RES->err_set and RES->err. Returns 0, or TXC_EINVAL when an out string has no NUL
 * within its capacity (such a result is not stored, unless outs_if drops
 * its outs); that out reads as absent and every other part is read. */
int result_collect(const struct txc_sig *sig, void *ret, void **args, const struct txc_arg *entry,
		   struct txc_result *res);

#endif
