/* callargs.h - the keyed arguments of a call given by a person or a program
 * (txcache key/get/set/delete, txcache_invalidate, txcache_key) rather than
 * read from a real call's registers.
 *
 * The caller supplies one value per "given" parameter, in signature order:
 * keyed scalars, strings and bytes, except an integer parameter that is the
 * LEN of a bytes parameter (it is derived from the bytes' length); a keyed
 * inout T * as its value on entry or NULL (bytes[*n] must then have *n
 * bytes). Then
 * callargs_finish() fills in what a real call would have: derived lengths,
 * and every out-parameter as a non-NULL pointer. The key built from the
 * result is the key of the real call with those values.
 */
#ifndef TXC_CALLARGS_H
#define TXC_CALLARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "key.h"
#include "sig.h"

/* True when parameter I of SIG takes a value from the caller. */
bool callargs_given(const struct txc_sig *sig, int i);

/* The number of given parameters of SIG. */
int callargs_count(const struct txc_sig *sig);

/* True when the integer N fits integer type T: N is V read as an int64_t
 * when IS_INT64, else V read as a uint64_t. bool holds 0 and 1 only. A
 * person names a call by its values (txcache key), so a value that T cannot
 * hold names no call at all, and is refused rather than converted. */
bool callargs_int_fits(enum txc_type t, uint64_t v, bool is_int64);

/* The portable form of integer V converted to scalar type T as C converts
 * (truncating to T's width; bool: V != 0). For the C API, whose caller
 * passes a C value that the real call would convert the same way. */
uint64_t callargs_from_int(enum txc_type t, uint64_t v);

/* The portable form of D converted to the float type T (float or double). */
uint64_t callargs_from_double(enum txc_type t, double d);

/* Completes ARGS (indexed like SIG's params) whose given entries are set:
 * derived LEN parameters take their bytes parameter's length (0 for NULL),
 * out-parameters become non-NULL. Returns 0, or TXC_EINVAL when a bytes
 * value's length differs from a literal LEN or from another bytes value
 * sharing the same LEN parameter, or does not fit the LEN parameter's type
 * (300 bytes for a uint8_t LEN: no real call can pass them, and converting
 * the length would key bytes the function never reads). ARGS may be partly
 * filled in on failure. */
int callargs_finish(const struct txc_sig *sig, struct txc_arg *args);

#endif
