/* defid.c - one closure's identity and registration; see defid.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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

static bool registered(struct defid *d, uint64_t gen)
{
	return __atomic_load_n(&d->reg_ok, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&d->reg_gen, __ATOMIC_RELAXED) == gen;
}

/* One thread of a process registers at a time: two threads that both found
 * no registry would both bump the generation, and the first one's values
 * would die. Returns true when this thread holds the turn. A turn taken in
 * another process (before a fork) is taken over; a wait is bounded (then
 * the thread registers without the turn). */
static bool take_turn(struct defid *d)
{
	int me = (int)getpid();
	for (int spins = 0; spins < 2000; spins++) {
		int cur = 0;
		if (__atomic_compare_exchange_n(&d->busy, &cur, me, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
		if (cur != me && __atomic_compare_exchange_n(&d->busy, &cur, me, false,
							     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return false;
}

int defid_register(struct defid *d, struct txc_store *st, const struct txc_key_fn *kf,
		   uint64_t *fn_gen)
{
	if (registered(d, *fn_gen))
		return 0;
	unsigned seq = __atomic_load_n(&d->reg_seq, __ATOMIC_ACQUIRE);
	bool turn = take_turn(d);
	int rc = 0;
	if (turn && __atomic_load_n(&d->reg_seq, __ATOMIC_ACQUIRE) != seq) {
		/* another thread registered while we waited: its generation was
		 * read before our real call too, and our identity is listed */
		*fn_gen = __atomic_load_n(&d->reg_gen, __ATOMIC_RELAXED);
	} else {
		bool known = false;
		uint64_t gen = 0;
		rc = idreg_register(st, kf, d->id, &gen, &known);
		if (rc == 0 && known) /* read with the registry, before the real call */
			*fn_gen = gen;
		if (rc == 0) {
			__atomic_store_n(&d->reg_gen, *fn_gen, __ATOMIC_RELAXED);
			__atomic_store_n(&d->reg_ok, 1, __ATOMIC_RELEASE);
			__atomic_add_fetch(&d->reg_seq, 1, __ATOMIC_RELEASE);
		}
	}
	if (turn)
		__atomic_store_n(&d->busy, 0, __ATOMIC_RELEASE);
	return rc;
}
