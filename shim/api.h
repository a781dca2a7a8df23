/* api.h - the state behind the public C API (include/txcache.h).
 *
 * The API keeps its own config and cache, loaded on first use from
 * $TXCACHE_CONFIG (else /etc/txcache.ini) and kept for the life of the
 * process, independent of whether the shim intercepts anything here. The
 * varargs convention is documented in include/txcache.h.
 */
#ifndef TXC_API_H
#define TXC_API_H

#include <stdarg.h>

#include "callargs.h"
#include "cache.h"

/* Reads the given keyed arguments of SIG from AP into ARGS (indexed like
 * SIG's params) and completes them with callargs_finish(). Returns 0 or
 * TXC_EINVAL. */
int api_args_from_va(const struct txc_sig *sig, va_list ap, struct txc_arg *args);

#endif
