/* mc.h - libmemcached, loaded on the first cached call instead of at start.
 *
 * Linking libmemcached pulls libstdc++, libsasl2, libcrypto and libhashkit
 * into every process the shim is preloaded into: about 1.5 ms of start-up
 * for programs that may never call a cached function. So libtxcache.so does
 * not link it: store.c calls it through the table below, filled by
 * mc_load() with dlopen() and dlsym(). (The CLI and the unit tests link
 * libmemcached; dlopen then finds the copy already loaded.)
 *
 * The library is TXCACHE_LIBMEMCACHED (read with secure_getenv) when set,
 * else libmemcached.so.11.
 */
#ifndef TXC_MC_H
#define TXC_MC_H

#include <libmemcached/memcached.h>

#define MC_FN(name) __typeof__(memcached_##name) *name

struct txc_mc {
	MC_FN(create);
	MC_FN(clone);
	MC_FN(free);
	MC_FN(quit);
	MC_FN(behavior_set);
	MC_FN(server_add);
	MC_FN(server_add_unix_socket);
	MC_FN(mget);
	MC_FN(fetch_result);
	MC_FN(result_create);
	MC_FN(result_free);
	MC_FN(result_key_value);
	MC_FN(result_key_length);
	MC_FN(result_value);
	MC_FN(result_length);
	MC_FN(result_cas);
	MC_FN(result_take_value);
	MC_FN(set);
	MC_FN(add);
	MC_FN(cas);
	MC_FN(append);
	MC_FN(delete);
	MC_FN(increment);
	MC_FN(generate_hash);
	MC_FN(flush);
	MC_FN(set_sasl_auth_data);
	MC_FN(version);
	MC_FN(server_instance_by_position);
	MC_FN(server_error_return);
};

/* Filled by mc_load(); read only after it returned 0. */
extern struct txc_mc txc_mc_fns;

/* MC(set)(...) calls memcached_set(...). */
#define MC(name) (txc_mc_fns.name)

/* Loads the library once per process (pthread_once: any thread may call
 * it, concurrently). Returns 0 when every function of struct txc_mc was
 * found, else TXC_EUNAVAIL, for good: the failure is logged once at error
 * level and every later call returns TXC_EUNAVAIL at once. */
int mc_load(void);

/* The library mc_load opens (TXCACHE_LIBMEMCACHED or libmemcached.so.11). */
const char *mc_library(void);

#endif
