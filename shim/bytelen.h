/* bytelen.h - can a call's bytes arguments be keyed at all?
 *
 * A bytes[LEN] parameter is keyed by LEN bytes at its pointer. A negative
 * LEN (a signed parameter holding -1) is no length: key.c keys it as 0
 * bytes, which is the key of every buffer with that LEN. Some libraries
 * give it a meaning: PKCS5_PBKDF2_HMAC reads passlen = -1 as "pass is a C
 * string", so two passwords would share one key and one result. Such a
 * call runs uncached instead.
 */
#ifndef TXC_BYTELEN_H
#define TXC_BYTELEN_H

#include "sig.h"

/* Checks each keyed bytes parameter of SIG whose LEN is a signed integer
 * parameter, or read through a signed inout integer (bytes[*n]), in AVALUE (libffi's argument
 * pointers). Returns 0, or TXC_EINVAL when one has a non-NULL pointer and a negative LEN; then *BAD
 * is that parameter's index. Reads only the LEN values; never fails
 * otherwise. */
int bytelen_check(const struct txc_sig *sig, void *const *avalue, int *bad);

#endif
