/* symptr.h - the `symptr` parameter kind: a pointer keyed by what it
 * points into.
 *
 * A `ptr` is never keyed, so two calls that differ only in such a pointer
 * share one key: PKCS5_PBKDF2_HMAC(..., EVP_sha256(), ...) and the same
 * call with EVP_sha512() got each other's results. A `symptr` keys by the
 * place the pointer names, the same in every process:
 *
 *   "SONAME:SYMBOL+0xOFF"          dladdr names an exported symbol that
 *                                  covers the address (stable across builds)
 *   "SONAME@BUILD+0xOFF"           no symbol covers it (a static table):
 *                                  the offset from the library's base, valid
 *                                  only for that build, so BUILD is its
 *                                  build-id (or "file=SIZE.MTIME")
 *
 * It keys WHICH object, never its contents: use it for pointers to
 * constant tables, method structs and functions. A pointer that no loaded
 * module maps (heap, stack) has no such name: that call is not cacheable
 * and the real function runs.
 */
#ifndef TXC_SYMPTR_H
#define TXC_SYMPTR_H

#include <stddef.h>

#include "key.h"
#include "sig.h"

#define TXC_SYMPTR_MAX 256

/* Text storage for the symptr arguments of one call. */
struct symptr_texts {
	char t[TXC_MAX_PARAMS][TXC_SYMPTR_MAX];
};

/* Writes the text of pointer P into BUF (CAP bytes, NUL-terminated) and its
 * length into *LEN. Returns 0, or TXC_ENOTFOUND when no module maps P. */
int symptr_text(const void *p, char *buf, size_t cap, size_t *len);

/* True when SIG has a keyed symptr parameter. */
int symptr_in_sig(const struct txc_sig *sig);

/* Replaces the pointer of each keyed symptr argument in ARGS by its text,
 * kept in *TX (a NULL pointer stays NULL). Returns 0, or TXC_ENOTFOUND
 * when one cannot be named (ARGS then partly converted: do not key it). */
int symptr_args_text(const struct txc_sig *sig, struct txc_arg *args, struct symptr_texts *tx);

#endif
