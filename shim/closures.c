/* closures.c - one function's libffi closures, retired with their module
 * (closures.h). */
#include <errno.h>
#include <ffi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "closures.h"
#include "log.h"

static closure_handler_fn g_handler;
static struct closure_set *const *g_sets;
static int g_nsets;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

/* A child of fork() has only the forking thread: a lock another thread held
 * would never be released there. Closures are published whole (nclosures
 * last), so a fresh lock sees consistent state. */
static void fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	g_lock = fresh;
}

void closure_set_init(struct closure_set *set, const char *name, ffi_cif *cif, struct fn_rt *fn)
{
	set->name = name;
	set->cif = cif;
	set->fn = fn;
}

void closures_init(closure_handler_fn handler, struct closure_set *const *sets, int n)
{
	g_sets = sets;
	g_nsets = n;
	pthread_atfork(NULL, NULL, fork_child);
	__atomic_store_n(&g_handler, handler, __ATOMIC_RELEASE);
}

static bool is_our_closure(void *code)
{
	for (int i = 0; i < g_nsets; i++)
		for (int k = 0; k < __atomic_load_n(&g_sets[i]->nclosures, __ATOMIC_ACQUIRE); k++)
			if (g_sets[i]->cl[k].code == code)
				return true;
	return false;
}

void *closures_real_of(const void *code)
{
	for (int i = 0; code && i < g_nsets; i++)
		for (int k = 0; k < __atomic_load_n(&g_sets[i]->nclosures, __ATOMIC_ACQUIRE); k++) {
			const struct closure_slot *s = &g_sets[i]->cl[k];
			if (s->code != code)
				continue;
			const struct closure_ud *ud = __atomic_load_n(&s->ud, __ATOMIC_ACQUIRE);
			return ud ? ud->real : NULL;
		}
	return NULL;
}

/* Marks the closures whose definition's module was unloaded since the last
 * look (modref.h), so they can take another definition. dladdr takes the
 * loader's lock, which a thread in a constructor holds while it may wait for
 * g_lock (dlsym): so the modules are looked at without g_lock, and a closure
 * is marked only if its target did not change meanwhile. */
static unsigned long long g_unloads_seen; /* atomic */

static void retire_fn(struct closure_set *f)
{
	struct closure_ud *uds[CLOSURES_MAX];
	struct modref mods[CLOSURES_MAX]; /* real and mod change only under g_lock */
	void *reals[CLOSURES_MAX];
	bool gone[CLOSURES_MAX];
	int n;
	pthread_mutex_lock(&g_lock);
	n = f->nclosures;
	for (int k = 0; k < n; k++) {
		uds[k] = f->cl[k].retired ? NULL : f->cl[k].ud;
		mods[k] = uds[k] ? uds[k]->mod : (struct modref){0};
		reals[k] = uds[k] ? uds[k]->real : NULL;
	}
	pthread_mutex_unlock(&g_lock);
	for (int k = 0; k < n; k++)
		gone[k] = uds[k] && !modref_alive(&mods[k], reals[k]);
	pthread_mutex_lock(&g_lock);
	for (int k = 0; k < n; k++) {
		if (!gone[k] || f->cl[k].ud != uds[k] || f->cl[k].retired)
			continue;
		f->cl[k].retired = true;
		log_msg(TXC_LOG_DEBUG, "%s: definition at %p unloaded; its closure is free",
			f->name, reals[k]);
	}
	pthread_mutex_unlock(&g_lock);
}

static void retire_unloaded(void)
{
	unsigned long long n = modref_unloads();
	if (n == __atomic_load_n(&g_unloads_seen, __ATOMIC_ACQUIRE))
		return;
	for (int i = 0; i < g_nsets; i++)
		retire_fn(g_sets[i]);
	__atomic_store_n(&g_unloads_seen, n, __ATOMIC_RELEASE);
}

/* Points SLOT's closure at REAL: fills the target no call is reading (the
 * one before last, see closure_slot) and publishes it. */
static void retarget(struct closure_set *f, struct closure_slot *s, void *real,
		     const struct modref *ref)
{
	struct closure_ud *ud = s->ud == &s->tgt[0] ? &s->tgt[1] : &s->tgt[0];
	free(ud->def.id); /* an identity of a module unloaded two loads ago */
	memset(ud, 0, sizeof(*ud));
	ud->fn = f->fn;
	ud->real = real;
	ud->mod = *ref; /* lm NULL (in no module): never retired */
	__atomic_store_n(&s->ud, ud, __ATOMIC_RELEASE);
	s->retired = false;
}

static void *new_closure(struct closure_set *f, void *real, const struct modref *ref)
{
	struct closure_slot *s = &f->cl[f->nclosures];
	void *code = NULL;
	ffi_closure *cl = ffi_closure_alloc(sizeof(ffi_closure), &code);
	if (!cl) {
		log_msg(TXC_LOG_WARN, "%s: cannot allocate a closure", f->name);
		return NULL;
	}
	retarget(f, s, real, ref);
	if (ffi_prep_closure_loc(cl, f->cif, g_handler, s, code) != FFI_OK) {
		ffi_closure_free(cl);
		log_msg(TXC_LOG_WARN, "%s: libffi refused the closure", f->name);
		return NULL;
	}
	s->closure = cl;
	s->code = code;
	/* publish after the closure is complete: readers scan without the lock */
	__atomic_store_n(&f->nclosures, f->nclosures + 1, __ATOMIC_RELEASE);
	return code;
}

static void *reuse_retired(struct closure_set *f, void *real, const struct modref *ref)
{
	for (int k = 0; k < f->nclosures; k++) {
		if (f->cl[k].retired) {
			retarget(f, &f->cl[k], real, ref);
			log_msg(TXC_LOG_DEBUG, "%s: closure %d now calls %p", f->name, k, real);
			return f->cl[k].code;
		}
	}
	return NULL;
}

/* Under g_lock: the closure of REAL while its module is loaded, or NULL. */
static void *find_live(const struct closure_set *f, void *real)
{
	for (int k = 0; k < f->nclosures; k++)
		if (!f->cl[k].retired && f->cl[k].ud->real == real)
			return f->cl[k].code;
	return NULL;
}

static void *make_closure(struct closure_set *f, void *real, const struct modref *ref)
{
	void *code = find_live(f, real);
	if (code)
		return code;
	code = reuse_retired(f, real, ref);
	if (code)
		return code;
	if (f->nclosures < CLOSURES_MAX)
		return new_closure(f, real, ref);
	log_msg(TXC_LOG_WARN,
		"%s: more than %d definitions loaded at once; not intercepting another", f->name,
		CLOSURES_MAX);
	return NULL;
}

void *closures_for(struct closure_set *set, void *real)
{
	if (!g_handler || !set || !real)
		return NULL;
	int saved = errno;
	struct modref ref;
	retire_unloaded();
	pthread_mutex_lock(&g_lock);
	bool ours = is_our_closure(real);
	void *code = ours ? NULL : find_live(set, real);
	pthread_mutex_unlock(&g_lock);
	if (!ours && !code) {
		(void)modref_of(real, &ref); /* outside g_lock: see closures.h */
		pthread_mutex_lock(&g_lock);
		code = make_closure(set, real, &ref);
		pthread_mutex_unlock(&g_lock);
	}
	errno = saved;
	return code;
}

void closures_forget_unloaded(void)
{
	if (!g_handler)
		return;
	int saved = errno;
	retire_unloaded();
	errno = saved;
}
