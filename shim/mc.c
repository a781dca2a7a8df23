/* mc.c - dlopen()s libmemcached on first use; see mc.h. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "err.h"
#include "log.h"
#include "mc.h"
#include "mcio.h"

#define MC_DEFAULT_LIB "libmemcached.so.11"

struct txc_mc txc_mc_fns;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_err = TXC_EUNAVAIL;

#define SYM(name)                                                                                  \
	{                                                                                          \
		"memcached_" #name, (void **)&txc_mc_fns.name                                      \
	}

static void load(void)
{
	const struct {
		const char *sym;
		void **slot;
	} syms[] = {
	    SYM(create),
	    SYM(clone),
	    SYM(free),
	    SYM(quit),
	    SYM(behavior_set),
	    SYM(server_add),
	    SYM(server_add_unix_socket),
	    SYM(mget),
	    SYM(fetch_result),
	    SYM(result_create),
	    SYM(result_free),
	    SYM(result_key_value),
	    SYM(result_key_length),
	    SYM(result_value),
	    SYM(result_length),
	    SYM(result_cas),
	    SYM(result_take_value),
	    SYM(set),
	    SYM(add),
	    SYM(cas),
	    SYM(append),
	    SYM(delete),
	    SYM(increment),
	    SYM(generate_hash),
	    SYM(flush),
	    SYM(set_sasl_auth_data),
	    SYM(version),
	    SYM(server_instance_by_position),
	    SYM(server_error_return),
	};
	const char *lib = mc_library();
	void *h;

	/* RTLD_LOCAL: its symbols never take part in the host's lookups. */
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_msg(TXC_LOG_ERROR, "cannot load %s (%s); every call goes to the real function",
			lib, dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].sym);
		if (!*syms[i].slot) {
			log_msg(TXC_LOG_ERROR, "%s has no %s; every call goes to the real function",
				lib, syms[i].sym);
			return; /* the handle stays open: cheaper than unloading C++ */
		}
	}
	if (mcio_install(h) != 0)
		log_msg(TXC_LOG_WARN,
			"cannot watch %s's socket I/O; timeout_ms bounds each wait, "
			"not each operation",
			lib);
	load_err = 0;
}

int mc_load(void)
{
	int saved = errno;

	pthread_once(&load_once, load);
	errno = saved;
	return load_err;
}

const char *mc_library(void)
{
	const char *lib = secure_getenv("TXCACHE_LIBMEMCACHED");
	return lib && *lib ? lib : MC_DEFAULT_LIB;
}
