/* scope.c - the loader's lookup scope of a module; see scope.h.
 *
 * State: the modules present at the first pass (the start-up set, whose
 * order is the global scope's), and one record per live dlopen root with
 * the mode it was opened with. A pass recomputes everything else from the
 * module list it is given, so nothing here points into a module that may
 * have been unloaded since.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>

#include "elfsym.h"
#include "err.h"
#include "ldenv.h"
#include "log.h"
#include "scope.h"

#define MAX_START 1024
#define MAX_OPENS 256
#define MAX_LIST  1024
#define NAME_CAP  512

struct open_rec {
	uintptr_t base;
	char name[NAME_CAP];
	int mode;  /* RTLD_GLOBAL | RTLD_DEEPBIND bits */
	bool seen; /* present when an earlier pass began */
};

/* Written by scope_note_open in any thread, read by passes: under g_lock. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_rec g_opens[MAX_OPENS];
static size_t g_nopens;
static bool g_lost;   /* a record did not fit: the global scope is unknown */
static int g_pending; /* atomic: wrapped dlopens between begin and end */

/* Pass state: only touched under the caller's patch lock. */
static uintptr_t start_base[MAX_START];
static size_t nstart;
static bool started, start_lost;
static const struct scope_mod *P;
static size_t PN;
static struct open_rec pass_opens[MAX_OPENS];
static int pass_root[MAX_OPENS]; /* index into P of each record's root */
static size_t pass_nopens;
static bool pass_lost;
static unsigned short global_list[MAX_LIST];
static size_t nglobal;
static bool global_ok, global_done;
static bool pass_pending, pass_deferred;
static bool dynamic_weak; /* LD_DYNAMIC_WEAK, read at the first pass */

static __thread int t_pending __attribute__((tls_model("initial-exec")));
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* A child has only the forking thread: other threads' dlopens under way
 * will never end there, and g_lock may have been held by one of them
 * (nothing under it forks, so taking it around fork is not needed). */
static void fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	g_lock = fresh;
	__atomic_store_n(&g_pending, t_pending, __ATOMIC_SEQ_CST);
}

static void init_once(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

void scope_open_begin(void)
{
	pthread_once(&g_once, init_once);
	t_pending++;
	__atomic_add_fetch(&g_pending, 1, __ATOMIC_SEQ_CST);
}

void scope_open_end(void)
{
	t_pending--;
	__atomic_sub_fetch(&g_pending, 1, __ATOMIC_SEQ_CST);
}

bool scope_deferred(void)
{
	return pass_deferred;
}

void scope_note_open(void *handle, int mode)
{
	struct link_map *lm = NULL;
	int saved = errno;
	if (!handle || dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm || !lm->l_name ||
	    !*lm->l_name) {
		(void)dlerror();
		errno = saved;
		return; /* the main program: global already */
	}
	mode &= RTLD_GLOBAL | RTLD_DEEPBIND;
	pthread_mutex_lock(&g_lock);
	bool seen = false;
	for (size_t i = 0; i < g_nopens && !seen; i++)
		seen = g_opens[i].base == lm->l_addr && g_opens[i].mode == mode &&
		       strcmp(g_opens[i].name, lm->l_name) == 0;
	if (!seen && (g_nopens == MAX_OPENS || strlen(lm->l_name) >= NAME_CAP)) {
		if (!g_lost)
			log_msg(TXC_LOG_INFO,
				"scope: dlopen %s not recorded: lazy slots of "
				"modules loaded from now on bind as seen from the shim",
				lm->l_name);
		g_lost = true;
	} else if (!seen) {
		struct open_rec *r = &g_opens[g_nopens++];
		r->base = lm->l_addr;
		r->mode = mode;
		r->seen = false;
		memcpy(r->name, lm->l_name, strlen(lm->l_name) + 1);
	}
	pthread_mutex_unlock(&g_lock);
	errno = saved;
}

static int find_mod(uintptr_t base, const char *name)
{
	for (size_t i = 0; i < PN; i++)
		if (P[i].dyn && P[i].base == base && strcmp(P[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Copies the live records for this pass and drops the closed ones. A
 * record noted after the caller listed MODS names a module MODS may not
 * hold yet: it is dropped only once a later pass misses it too (dropping
 * it at once left that module to the fallback, or deferred for good). */
static void take_records(void)
{
	pthread_mutex_lock(&g_lock);
	size_t keep = 0;
	pass_nopens = 0;
	for (size_t i = 0; i < g_nopens; i++) {
		int root = find_mod(g_opens[i].base, g_opens[i].name);
		if (root < 0 && g_opens[i].seen)
			continue; /* closed since: its scope is gone too */
		g_opens[i].seen = true;
		g_opens[keep++] = g_opens[i];
		if (root < 0)
			continue;
		pass_opens[pass_nopens] = g_opens[i];
		pass_root[pass_nopens++] = root;
	}
	g_nopens = keep;
	pass_lost = g_lost;
	pthread_mutex_unlock(&g_lock);
}

static bool add_searchlist(size_t root, unsigned short *list, size_t *n);
static bool in_list(const unsigned short *list, size_t n, size_t i);

/* The modules the loader mapped at start: the program, the preloads (the
 * modules between it and the first of its DT_NEEDED closure, in link-map
 * order) and their DT_NEEDED closure. A start-up constructor may have
 * dlopen()ed more before this first pass: those are not in the global
 * scope. Where a DT_NEEDED name is ambiguous, every module present counts. */
static size_t start_list(size_t n, unsigned short *list)
{
	size_t k = 0, j = 1;
	if (n == 0 || *P[0].name || !add_searchlist(0, list, &k))
		return 0;
	while (j < n && (P[j].vdso || !in_list(list, k, j)))
		j++;
	k = 0;
	for (size_t i = 0; i < j; i++)
		if (!P[i].vdso && !add_searchlist(i, list, &k))
			return 0;
	return k;
}

static void fix_start(size_t n)
{
	static unsigned short list[MAX_LIST];
	size_t k = start_list(n, list);
	for (size_t i = 0; i < n; i++) {
		if (k && !in_list(list, k, i) && !P[i].vdso)
			continue; /* dlopen()ed by a constructor */
		if (nstart == MAX_START)
			start_lost = true;
		else
			start_base[nstart++] = P[i].base;
	}
}

void scope_begin(const struct scope_mod *mods, size_t n)
{
	P = mods;
	PN = n;
	global_done = false;
	pass_deferred = false;
	/* Read before the records: a module in MODS whose dlopen had ended by
	 * now has its record in take_records; one still under way counts here
	 * (its begin came before it was mapped, so before MODS was listed). */
	pass_pending = __atomic_load_n(&g_pending, __ATOMIC_SEQ_CST) != 0;
	if (!started) {
		started = true;
		dynamic_weak = ldenv_dynamic_weak();
		fix_start(n);
	}
	take_records();
}

static bool is_start(size_t i)
{
	for (size_t k = 0; k < nstart; k++)
		if (start_base[k] == P[i].base)
			return true;
	return false;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static const char *soname_of(const struct scope_mod *m)
{
	struct elfsym_mod em = {m->base, m->lo, m->hi, m->dyn};
	const char *strtab = NULL;
	ElfW(Addr) so = 0;
	bool has = false;
	for (const ElfW(Dyn) *d = m->dyn; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_STRTAB)
			strtab = (const char *)elfsym_dyn_addr(&em, d->d_un.d_ptr);
		else if (d->d_tag == DT_SONAME) {
			so = d->d_un.d_val;
			has = true;
		}
	}
	return has && strtab ? strtab + so : NULL;
}

/* The one module a DT_NEEDED entry names, like _dl_name_match_p: the full
 * name for a path, else the soname or the file's base name. -1: none, or
 * more than one (ambiguous: not decided here). */
static int match_needed(const char *need)
{
	int found = -1;
	for (size_t i = 0; i < PN; i++) {
		const struct scope_mod *m = &P[i];
		if (!m->dyn || m->vdso || !*m->name)
			continue;
		const char *so = soname_of(m);
		bool hit = strchr(need, '/') ? strcmp(m->name, need) == 0
					     : (so && strcmp(so, need) == 0) ||
						   strcmp(base_name(m->name), need) == 0;
		if (hit && found >= 0)
			return -1;
		if (hit)
			found = (int)i;
	}
	return found;
}

static bool in_list(const unsigned short *list, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (list[k] == i)
			return true;
	return false;
}

/* Appends ROOT's search list (itself, then DT_NEEDED breadth first) to
 * LIST, skipping members already there. Returns false when a DT_NEEDED
 * name matches no single module. */
static bool add_searchlist(size_t root, unsigned short *list, size_t *n)
{
	size_t first = *n;
	if (!in_list(list, *n, root) && *n < MAX_LIST)
		list[(*n)++] = (unsigned short)root;
	for (size_t k = first; k < *n; k++) {
		const struct scope_mod *m = &P[list[k]];
		struct elfsym_mod em = {m->base, m->lo, m->hi, m->dyn};
		const char *strtab = NULL;
		for (const ElfW(Dyn) *d = m->dyn; d && d->d_tag != DT_NULL; d++)
			if (d->d_tag == DT_STRTAB)
				strtab = (const char *)elfsym_dyn_addr(&em, d->d_un.d_ptr);
		for (const ElfW(Dyn) *d = m->dyn; strtab && d->d_tag != DT_NULL; d++) {
			if (d->d_tag != DT_NEEDED)
				continue;
			int j = match_needed(strtab + d->d_un.d_val);
			if (j < 0 || *n == MAX_LIST)
				return false;
			if (!in_list(list, *n, (size_t)j))
				list[(*n)++] = (unsigned short)j;
		}
	}
	return true;
}

/* The global scope: the start-up modules in link-map order, then the
 * search lists of RTLD_GLOBAL dlopens in the order they were made. */
static bool build_global(void)
{
	if (global_done)
		return global_ok;
	global_done = true;
	global_ok = !start_lost && !pass_lost;
	nglobal = 0;
	for (size_t i = 0; i < PN && global_ok; i++)
		if (!P[i].vdso && is_start(i))
			global_list[nglobal++] = (unsigned short)i;
	for (size_t r = 0; r < pass_nopens && global_ok; r++)
		if (pass_opens[r].mode & RTLD_GLOBAL)
			global_ok = add_searchlist((size_t)pass_root[r], global_list, &nglobal);
	return global_ok;
}

/* The address of SYM, defined in P[I]. An IFUNC's resolver is run by the
 * loader itself, through dlvsym/dlsym on a handle of its module, whose
 * search starts with that module; its answer may lie anywhere (time and
 * gettimeofday answer with the vDSO's). For an unversioned import that
 * is dlsym's default version, which may differ from the oldest one an
 * unversioned import binds to when the module has several: none known. */
static int def_addr(size_t i, const ElfW(Sym) * sym, const char *name, const char *ver, void **real)
{
	const struct scope_mod *m = &P[i];
	if (sym->st_shndx == SHN_ABS)
		return TXC_ENOTFOUND;
	if (TXC_ST_TYPE(sym->st_info) != STT_GNU_IFUNC) {
		*real = (void *)(m->base + sym->st_value);
		return 0;
	}
	void *h = *m->name ? dlopen(m->name, RTLD_LAZY | RTLD_NOLOAD) : dlopen(NULL, RTLD_LAZY);
	void *r = NULL;
	if (h) {
		r = ver ? dlvsym(h, name, ver) : dlsym(h, name);
		dlclose(h);
	}
	(void)dlerror();
	if (!r)
		return TXC_ENOTFOUND;
	*real = r;
	return 0;
}

/* A filter library (DT_FILTER, DT_AUXILIARY) has its symbols looked up in
 * other objects first: not redone here. */
static bool is_filter(const struct scope_mod *m)
{
	for (const ElfW(Dyn) *d = m->dyn; d->d_tag != DT_NULL; d++)
		if (d->d_tag == DT_FILTER || d->d_tag == DT_AUXILIARY)
			return true;
	return false;
}

/* With LD_DYNAMIC_WEAK, the first weak definition met by the current
 * lookup (across its lists, as dl-lookup.c keeps it): taken only when no
 * strong one follows. */
static const ElfW(Sym) * weak_sym;
static size_t weak_mod;

/* Searches LIST in order. Returns 0 (found), 1 (not in this list), or
 * TXC_ENOTFOUND when a member cannot be read or is a filter (undecided). */
static int search(const unsigned short *list, size_t n, const char *name, const char *ver,
		  void **real)
{
	for (size_t k = 0; k < n; k++) {
		const struct scope_mod *m = &P[list[k]];
		if (!m->dyn || is_filter(m))
			return TXC_ENOTFOUND;
		struct elfsym_mod em = {m->base, m->lo, m->hi, m->dyn};
		const ElfW(Sym) *sym = elfsym_find(&em, name, ver);
		if (sym && dynamic_weak && TXC_ST_BIND(sym->st_info) == STB_WEAK) {
			if (!weak_sym) {
				weak_sym = sym;
				weak_mod = list[k];
			}
			continue;
		}
		if (sym)
			return def_addr(list[k], sym, name, ver, real);
	}
	return 1;
}

/* Searches the local scope of each record whose search list holds
 * IMPORTER, records FROM to TO (excluded). Returns as search(). */
static int search_locals(size_t importer, size_t from, size_t to, const char *name, const char *ver,
			 void **real)
{
	static unsigned short list[MAX_LIST];
	for (size_t r = from; r < to && r < pass_nopens; r++) {
		size_t n = 0;
		if (!add_searchlist((size_t)pass_root[r], list, &n))
			return TXC_ENOTFOUND;
		if (!in_list(list, n, importer))
			continue;
		int rc = search(list, n, name, ver, real);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

/* The first record whose search list holds IMPORTER: the dlopen that
 * loaded it, as far as the shim saw. -1: none; -2: undecided. */
static int loading_record(size_t importer)
{
	static unsigned short list[MAX_LIST];
	for (size_t r = 0; r < pass_nopens; r++) {
		size_t n = 0;
		if (!add_searchlist((size_t)pass_root[r], list, &n))
			return -2;
		if (in_list(list, n, importer))
			return (int)r;
	}
	return -1;
}

static int lookup(size_t importer, const char *name, const char *ver, void **real)
{
	if (!build_global())
		return TXC_ENOTFOUND;
	if (is_start(importer)) {
		int rc = search(global_list, nglobal, name, ver, real);
		return rc <= 0 ? rc : search_locals(importer, 0, pass_nopens, name, ver, real);
	}
	int first = loading_record(importer);
	if (first == -1 && pass_pending)
		return TXC_EUNAVAIL; /* perhaps by a dlopen not yet recorded */
	if (first < 0)
		return TXC_ENOTFOUND; /* loaded by a dlopen the shim did not see */
	/* RTLD_DEEPBIND puts the loading dlopen's local scope before the
	 * global one; later dlopens' local scopes come last either way. */
	size_t f = (size_t)first;
	bool deep = pass_opens[f].mode & RTLD_DEEPBIND;
	int rc = 1;
	if (deep)
		rc = search_locals(importer, f, f + 1, name, ver, real);
	if (rc == 1)
		rc = search(global_list, nglobal, name, ver, real);
	if (rc == 1)
		rc = search_locals(importer, deep ? f + 1 : f, pass_nopens, name, ver, real);
	return rc;
}

int scope_lookup(size_t importer, const char *name, const char *ver, void **real)
{
	if (!P || importer >= PN || !name || !real || P[importer].vdso)
		return TXC_ENOTFOUND;
	int saved = errno;
	weak_sym = NULL;
	int rc = lookup(importer, name, ver, real);
	if (rc == 1 && weak_sym)
		rc = def_addr(weak_mod, weak_sym, name, ver, real);
	errno = saved;
	if (rc == TXC_EUNAVAIL) {
		pass_deferred = true;
		log_msg(TXC_LOG_DEBUG, "scope: %s for %s: left to a later pass", name,
			*P[importer].name ? P[importer].name : "(main)");
		return rc;
	}
	if (rc != 0)
		log_msg(TXC_LOG_DEBUG, "scope: %s for %s: %s", name,
			*P[importer].name ? P[importer].name : "(main)",
			rc == 1 ? "no definition in its scope" : "scope not known");
	return rc == 0 ? 0 : TXC_ENOTFOUND;
}
