/* sigtypes.h - the C typedef names the signature language knows.
 *
 * A prototype copied from a header says "uLongf *destLen" or "off_t off";
 * these tables map such names to the scalar type they are on this ABI, so
 * the copied text keys exactly as its plain spelling. Pure tables: nothing
 * here allocates, fails or calls another module.
 */
#ifndef TXC_SIGTYPES_H
#define TXC_SIGTYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "sig.h"

/* The scalar type that NAME (LEN bytes, not NUL-terminated) names: a
 * built-in typedef (size_t, uLongf, off_t, ...) or one of TYPES (may be
 * NULL). Returns 1 and *T, or 0 when NAME is none of them. */
int sigtypes_lookup(const char *name, size_t len, const struct txc_sig_types *types,
		    enum txc_type *t);

/* True when NAME (LEN bytes) is one of the built-in typedef names. */
bool sigtypes_is_builtin(const char *name, size_t len);

/* True for the qualifiers C allows around a type, which the language
 * ignores: const, volatile, restrict, __restrict, __restrict__. */
bool sigtypes_is_qualifier(const char *name, size_t len);

#endif
