/* txcache.h - the public C API of libtxcache.so.
 *
 * Link with -ltxcache (pkg-config --cflags --libs txcache). The API works
 * whether or not the library is also preloaded, and whether or not caching
 * is enabled in this process: on first use it reads the same config file as
 * the shim ($TXCACHE_CONFIG, else /etc/txcache.ini) and talks to the same
 * memcached servers, so it reaches exactly the keys the shim writes.
 *
 * Every function returns 0 or a negative TXCACHE_E* code; txcache_strerror()
 * describes it. All functions are thread-safe.
 *
 * Keyed arguments ("...") are passed in signature order, one per keyed
 * parameter of FUNCTION: parameters listed in "ignore", opaque "ptr"
 * parameters and out-parameters are skipped, and so is an integer parameter
 * that gives the length of a "bytes[LEN]" parameter (the length travels with
 * the bytes). Out-parameters count as non-NULL, as in an ordinary call.
 * Each keyed argument is passed as C passes it to a variadic function:
 *
 *   signature type                                  pass
 *   char, short, int, bool, int8..int32_t, and
 *   their unsigned versions                         int (or unsigned int)
 *   long, unsigned long                             long, unsigned long
 *   long long, unsigned long long                   long long, unsigned long long
 *   size_t, ssize_t, int64_t, uint64_t              that type
 *   float, double                                   double
 *   string                                          const char * (NULL allowed)
 *   bytes[LEN]                                      const void *, size_t (two arguments)
 *   symptr                                          const void * (this process's pointer)
 *   file, file:content                              const char * (a path)
 *
 * The value is converted to the parameter's type as C converts it when
 * calling the function, so txcache_invalidate("f", x) drops the entry of
 * f(x) for any x of the declared type.
 *
 * A key also covers the definition of FUNCTION (its library, build and
 * symbol version: README "Identity"). txcache_invalidate drops the call
 * under every definition that has stored values, even when this process
 * never loaded FUNCTION's library.
 *
 * A function keyed by the world (key_env, key_cwd, file parameters:
 * README "Keys that see the world"): txcache_key uses this process's
 * environment, directory and the file as it is now; txcache_invalidate
 * drops every call of FUNCTION, since one call has a key per world.
 */
#ifndef TXCACHE_H
#define TXCACHE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TXCACHE_API __attribute__((visibility("default")))

/* Error codes: the same numbers the library uses internally. */
enum txcache_error {
	TXCACHE_OK = 0,
	TXCACHE_ENOMEM = -1,	 /* an allocation failed */
	TXCACHE_EINVAL = -2,	 /* bad argument */
	TXCACHE_ENOTFOUND = -3,	 /* no such function in the config */
	TXCACHE_ETIMEOUT = -4,	 /* memcached did not answer in time */
	TXCACHE_EUNAVAIL = -5,	 /* memcached unreachable */
	TXCACHE_ESERVER = -6,	 /* memcached answered with an error */
	TXCACHE_ECORRUPT = -7,	 /* a value failed verification */
	TXCACHE_ETOOBIG = -8,	 /* a key or a buffer limit was exceeded */
	TXCACHE_ERANGE = -9,	 /* a cached value does not fit */
	TXCACHE_ECONFIG = -10,	 /* the config file is missing or invalid */
	TXCACHE_ESYS = -11,	 /* a system call failed */
	TXCACHE_EDISABLED = -12, /* caching is disabled */
	TXCACHE_EEXIST = -13	 /* already exists */
};

/* Drops the cached result of FUNCTION called with the given keyed
 * arguments, on every machine sharing the cache, the way the shim's own
 * "invalidates" does: it leaves a short-lived tombstone, so that a miss of
 * that call already running elsewhere does not store its older result.
 * When the key's server is unreachable it invalidates every call of
 * FUNCTION instead (then of the namespace), so the old value is not served
 * when the server comes back. Dropping an entry that is not cached is
 * success. Returns 0, TXCACHE_ENOTFOUND (FUNCTION is not in the config),
 * TXCACHE_EINVAL (FUNCTION is NULL), TXCACHE_ECONFIG, or a memcached
 * failure code when no server could be reached at all. */
TXCACHE_API int txcache_invalidate(const char *function, ...);

/* Invalidates every cached call of FUNCTION, or of the whole namespace
 * when FUNCTION is NULL, by bumping a generation counter: nothing else on
 * the server is touched. When FUNCTION's counter is unreachable it bumps
 * the namespace's. Returns 0, TXCACHE_ENOTFOUND, TXCACHE_ECONFIG, or a
 * memcached failure code. */
TXCACHE_API int txcache_flush(const char *function);

/* Writes the memcached key of FUNCTION called with the given keyed
 * arguments into OUT (CAP bytes, NUL-terminated): the key the shim reads
 * and writes for the definition this process's loader finds (dlsym); when
 * FUNCTION is not loaded here, for the only definition that has registered
 * values (one memcached read), else TXCACHE_ENOTFOUND. Returns 0,
 * TXCACHE_ETOOBIG when
 * CAP is too small (OUT is then ""), TXCACHE_ENOTFOUND, TXCACHE_EINVAL or
 * TXCACHE_ECONFIG. A key is at most 250 bytes. */
TXCACHE_API int txcache_key(char *out, size_t cap, const char *function, ...);

/* Returns a static description of ERR; never NULL. */
TXCACHE_API const char *txcache_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
