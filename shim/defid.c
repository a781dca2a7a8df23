/* defid.c - one closure's identity and registration; see defid.h. */
#include <stdbool.h>
#include <stdlib.h>

#include "defid.h"
#include "err.h"
#include "idreg.h"
#include "log.h"

const struct txc_ident *defid_get(struct defid *d, const struct txc_fn_config *fc, void *real)
{
	struct txc_ident *id = __atomic_load_n(&d->id, __ATOMIC_ACQUIRE);
	if (id || __atomic_load_n(&d->failed, __ATOMIC_RELAXED))
		return id;
	struct txc_ident *mine = malloc(sizeof(*mine));
	int rc =
	    mine ? ident_of_addr(mine, fc->identity, fc->sig.name, fc->version, real) : TXC_ENOMEM;
	if (rc != 0) {
		free(mine);
		if (rc == TXC_ENOMEM)
			return NULL; /* try again on a later call */
		__atomic_store_n(&d->failed, 1, __ATOMIC_RELAXED);
		log_msg(TXC_LOG_WARN, "%s: cannot tell which library defines it (%s); not caching",
			fc->sig.name, txc_strerror(rc));
		return NULL;
	}
	struct txc_ident *expected = NULL;
	if (!__atomic_compare_exchange_n(&d->id, &expected, mine, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		free(mine);
		return expected;
	}
	log_msg(TXC_LOG_DEBUG, "%s: definition %s", fc->sig.name, mine->text);
	return mine;
}

int defid_register(struct defid *d, struct txc_store *st, const struct txc_key_fn *kf,
		   uint64_t *fn_gen)
{
	if (__atomic_load_n(&d->reg_ok, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&d->reg_gen, __ATOMIC_RELAXED) == *fn_gen)
		return 0;
	bool bumped = false;
	uint64_t gen = 0;
	int rc = idreg_register(st, kf, d->id, &bumped, &gen);
	if (rc != 0)
		return rc;
	if (bumped)
		*fn_gen = gen;
	/* Threads racing here write the same facts; a stale pair only costs
	 * one more registration round trip. */
	__atomic_store_n(&d->reg_gen, *fn_gen, __ATOMIC_RELAXED);
	__atomic_store_n(&d->reg_ok, 1, __ATOMIC_RELEASE);
	return 0;
}
