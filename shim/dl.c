/* dl.c - dlopen, dlsym, dlvsym, dlclose, dladdr and dladdr1 wrappers reached
 * through patched GOT slots; see dl.h.
 *
 * Why GOT slots and not exported wrappers: glibc resolves RTLD_NEXT and
 * RTLD_DEFAULT, and searches a bare dlopen name, from the caller's return
 * address. An exported dlsym would make every lookup come from the shim and
 * break other preloaded libraries. Patching slots keeps the shim's own
 * symbol table empty, and the dlsym/dlvsym wrappers forward every lookup
 * they do not answer with a tail call, which leaves the return address the
 * caller's own.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dl.h"
#include "err.h"
#include "log.h"
#include "redir.h"
#include "scope.h"

/* A tail call is what keeps the caller's return address for glibc; ask for
 * it even in -O0/-O1 builds (make asan). Clang does it from -O1 on. */
#if defined(__GNUC__) && !defined(__clang__)
#define TXC_TAILCALL __attribute__((noinline, optimize("optimize-sibling-calls")))
#else
#define TXC_TAILCALL __attribute__((noinline))
#endif

enum { DL_OPEN, DL_SYM, DL_VSYM, DL_CLOSE, DL_ADDR, DL_ADDR1, DL_N };
static const char *const dl_names[DL_N] = {"dlopen",  "dlsym",	"dlvsym",
					   "dlclose", "dladdr", "dladdr1"};

/* Written once by dl_arm before any slot leads to a wrapper. */
static struct interpose_target *g_targets; /* g_n configured, then DL_N */
static size_t g_n;
static interpose_hook_fn g_hook;
static void *g_ctx;

/* Guards the pass state below and interpose.c's module array. Never
 * waited for without a bound from w_dlopen: its holder calls into the
 * loader (dlsym, dladdr), which waits for the loader's lock, which a thread
 * running a constructor holds while that constructor may be in w_dlopen. */
static pthread_mutex_t g_patch_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*g_after)(void *ctx);
static void *g_after_ctx;
static unsigned long long g_adds; /* dlpi_adds when the last pass began */
static int g_dl_slots;		  /* wrappers handed out in the current pass */

/* Combined passes: each dlopen that returned a handle is a request; the
 * lock's holder runs passes until it has covered every request made while
 * it held the lock, so a dlopen that cannot take the lock can leave its
 * module to the holder. */
static unsigned long g_requests; /* atomic: requests made */
static unsigned long g_served;	 /* atomic: requests covered by a finished pass */
static __thread int t_in_dlopen __attribute__((tls_model("initial-exec")));

static void *w_dlopen(const char *file, int mode);
static void *w_dlsym(void *h, const char *name);
static void *w_dlvsym(void *h, const char *name, const char *ver);
static int w_dlclose(void *h);
static int w_dladdr(const void *addr, Dl_info *info);
static int w_dladdr1(const void *addr, Dl_info *info, void **extra, int flags);
static void *(*g_unwrap)(const void *code); /* dl_set_unwrap's */
static void (*g_unloaded)(void);	    /* atomic: dl_after_unload's callback */

static void *dl_hook(void *ctx, int fn, void *real)
{
	(void)ctx;
	if ((size_t)fn < g_n)
		return g_hook(g_ctx, fn, real);
	void *const wrappers[DL_N] = {(void *)w_dlopen,	 (void *)w_dlsym,  (void *)w_dlvsym,
				      (void *)w_dlclose, (void *)w_dladdr, (void *)w_dladdr1};
	size_t k = (size_t)fn - g_n;
	if (k >= DL_N || real == wrappers[k])
		return NULL;
	g_dl_slots++;
	return wrappers[k];
}

static int adds_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	if (size >= offsetof(struct dl_phdr_info, dlpi_adds) + sizeof(info->dlpi_adds))
		*(unsigned long long *)data = info->dlpi_adds;
	return 1; /* the counter is the same in every entry */
}

/* A slot written: the configured ones are tallied (redir.h). */
static void dl_seen(void *ctx, const char *module, int fn)
{
	(void)ctx;
	if ((size_t)fn < g_n)
		redir_slot(module, fn);
}

/* Patches every module when one was added since the last pass. Call with
 * g_patch_lock held. Sets *NPATCHED to the configured slots written. LATER:
 * not dl_arm's pass (its modules are logged as loaded later). */
static int patch_pass(int *npatched, bool later)
{
	unsigned long long adds = 0;
	*npatched = 0;
	dl_iterate_phdr(adds_cb, &adds);
	if (adds && adds == g_adds)
		return 0;
	g_dl_slots = 0;
	redir_pass_begin();
	int rc =
	    interpose_patch_seen(g_targets, g_n + DL_N, dl_hook, NULL, dl_seen, NULL, npatched);
	redir_pass_end(later);
	/* the pass's own pins may have been the last references of a module */
	void (*unloaded)(void) = __atomic_load_n(&g_unloaded, __ATOMIC_ACQUIRE);
	if (unloaded)
		unloaded();
	if (rc == 0) {
		/* a module left for later (scope.h) makes the next pass full */
		g_adds = scope_deferred() ? 0 : adds;
		*npatched -= g_dl_slots < *npatched ? g_dl_slots : *npatched;
	}
	/* lookups that failed on the way are not the caller's dlerror() */
	(void)dlerror();
	return rc;
}

/* See dl.h (Fork). A lock the forking thread cannot hold: nothing under it
 * forks, and the real dlopen runs outside it. */
static void fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	if (pthread_mutex_trylock(&g_patch_lock) == 0) {
		pthread_mutex_unlock(&g_patch_lock);
		return;
	}
	g_patch_lock = fresh;
	g_adds = 0; /* a pass was cut short: the next one starts over */
}

int dl_arm(const struct interpose_target *targets, size_t n, interpose_hook_fn hook, void *ctx,
	   int *npatched)
{
	if (!hook || !npatched || (n && !targets))
		return TXC_EINVAL;
	struct interpose_target *t = calloc(n + DL_N, sizeof(*t));
	if (!t)
		return TXC_ENOMEM;
	if (n)
		memcpy(t, targets, n * sizeof(*t));
	for (size_t k = 0; k < DL_N; k++)
		t[n + k].name = dl_names[k];
	pthread_atfork(NULL, NULL, fork_child);
	pthread_mutex_lock(&g_patch_lock);
	g_targets = t;
	g_n = n;
	g_hook = hook;
	g_ctx = ctx;
	int rc = patch_pass(npatched, false);
	pthread_mutex_unlock(&g_patch_lock);
	return rc;
}

void dl_after_load(void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&g_patch_lock);
	g_after = fn;
	g_after_ctx = ctx;
	pthread_mutex_unlock(&g_patch_lock);
}

/* ---- dlopen ---- */

/* The loader's search list for a bare name dlopen()ed by module LM
 * (RTLD_DI_SERINFO: the DT_RPATH of LM, of the module that loaded it and
 * so on up, the program's, LD_LIBRARY_PATH, LM's DT_RUNPATH, the default
 * directories). Returns a malloc()ed list, or NULL. */
static Dl_serinfo *search_list(void *lm)
{
	Dl_serinfo size;
	if (dlinfo(lm, RTLD_DI_SERINFOSIZE, &size) != 0)
		return NULL;
	Dl_serinfo *si = malloc(size.dls_size);
	if (!si)
		return NULL;
	*si = size;
	if (dlinfo(lm, RTLD_DI_SERINFO, si) == 0)
		return si;
	free(si);
	return NULL;
}

/* How many directories of A come before its tail shared with B. The
 * shim's own list ends like every module's (the program's DT_RPATH,
 * LD_LIBRARY_PATH, the default directories); the real dlopen called from
 * the shim searches that tail, and ld.so.cache before the defaults, in the
 * loader's order. */
static unsigned own_dirs(const Dl_serinfo *a, const Dl_serinfo *b)
{
	unsigned i = a->dls_cnt, j = b ? b->dls_cnt : 0;
	while (i > 0 && j > 0 &&
	       strcmp(a->dls_serpath[i - 1].dls_name, b->dls_serpath[j - 1].dls_name) == 0) {
		i--;
		j--;
	}
	return i;
}

/* dlopen(FILE) along the directories the module holding RA searches and
 * the shim would not (the DT_RPATH chain of its loaders, its DT_RUNPATH).
 * NULL: not found there. */
static void *open_on_caller_path(const char *file, int mode, void *ra)
{
	Dl_info info;
	struct link_map *lm = NULL, *self = NULL;
	if (!dladdr1(ra, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return NULL;
	Dl_serinfo *si = search_list(lm), *own = NULL;
	if (!si)
		return NULL;
	if (dladdr1((void *)search_list, &info, (void **)&self, RTLD_DL_LINKMAP) && self)
		own = search_list(self);
	unsigned n = own_dirs(si, own);
	void *h = NULL;
	char path[4096];
	for (unsigned i = 0; i < n && !h; i++) {
		const char *dir = si->dls_serpath[i].dls_name;
		int len = snprintf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "", file);
		if (len > 0 && (size_t)len < sizeof(path) && access(path, F_OK) == 0)
			h = dlopen(path, mode);
	}
	free(own);
	free(si);
	return h;
}

static void *open_as_caller(const char *file, int mode, void *ra)
{
	if (!file || strchr(file, '/') || (mode & RTLD_NOLOAD))
		return dlopen(file, mode);
	/* Loaded already under that name: the loader would not search. */
	void *h = dlopen(file, mode | RTLD_NOLOAD);
	if (!h) {
		(void)dlerror();
		h = open_on_caller_path(file, mode, ra);
	}
	return h ? h : dlopen(file, mode);
}

/* Under g_patch_lock: passes until no request is left uncovered. Sets *NP
 * to the configured slots written. */
static int run_passes(int *np)
{
	int rc, n;
	unsigned long target;
	*np = 0;
	do {
		target = __atomic_load_n(&g_requests, __ATOMIC_ACQUIRE);
		unsigned long long before = g_adds;
		rc = patch_pass(&n, true);
		*np += n;
		if (rc == 0 && g_adds != before && g_after)
			g_after(g_after_ctx);
		__atomic_store_n(&g_served, target, __ATOMIC_RELEASE);
	} while (__atomic_load_n(&g_requests, __ATOMIC_ACQUIRE) != target);
	return rc;
}

/* Patches what dlopen request REQ added, or waits (bounded) for the lock's
 * holder to do it. Inside a dlopen (a constructor, under the loader's lock)
 * the holder may be waiting for this very thread: wait briefly, then leave
 * the module to the holder's next pass (calls it gets meanwhile are not
 * cached). Returns 0, a pass's error, or 1 when left to the holder. */
static int patch_request(unsigned long req, int *np)
{
	long budget_us = t_in_dlopen ? 20000 : 2000000;
	const struct timespec pause = {0, 200000};
	*np = 0;
	for (long waited = 0;; waited += 200) {
		if (pthread_mutex_trylock(&g_patch_lock) == 0) {
			int rc = run_passes(np);
			pthread_mutex_unlock(&g_patch_lock);
			return rc;
		}
		if (__atomic_load_n(&g_served, __ATOMIC_ACQUIRE) >= req)
			return 0;
		if (waited >= budget_us)
			return 1;
		nanosleep(&pause, NULL);
	}
}

static void (*g_before)(void);

void dl_before_load(void (*fn)(void))
{
	__atomic_store_n(&g_before, fn, __ATOMIC_RELEASE);
}

static void *w_dlopen(const char *file, int mode)
{
	void (*before)(void) = __atomic_load_n(&g_before, __ATOMIC_ACQUIRE);
	/* before any constructor of the host's can run under the loader's lock */
	if (before && !t_in_dlopen)
		before();
	t_in_dlopen++;
	scope_open_begin();
	void *h = open_as_caller(file, mode, __builtin_return_address(0));
	t_in_dlopen--;
	/* before the pass that covers it: lazy slots bind within its scope */
	if (h)
		scope_note_open(h, mode);
	scope_open_end();
	if (!h)
		return NULL;
	int saved = errno, np = 0;
	unsigned long req = __atomic_add_fetch(&g_requests, 1, __ATOMIC_ACQ_REL);
	int rc = patch_request(req, &np);
	if (rc < 0)
		log_msg(TXC_LOG_WARN, "dlopen %s: patching failed (%s)", file ? file : "(main)",
			txc_strerror(rc));
	else if (rc == 1)
		log_msg(TXC_LOG_DEBUG, "dlopen %s: left to the patch pass under way", file);
	else if (np > 0)
		log_msg(TXC_LOG_DEBUG, "dlopen %s: %d call sites redirected", file, np);
	errno = saved;
	return h;
}

/* ---- dlsym, dlvsym ---- */

static bool configured(const char *name)
{
	for (size_t i = 0; name && i < g_n; i++)
		if (strcmp(g_targets[i].name, name) == 0)
			return true;
	return false;
}

/* A non-PIE program's canonical PLT entry of an imported function (an
 * undefined symbol with a value): it jumps through the program's own
 * patched slot, so it is already cached; wrapping it again would make the
 * closure call itself. */
static bool canonical_plt(void *r)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	if (!dladdr1(r, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return false;
	return sym->st_shndx == SHN_UNDEF && info.dli_saddr == r;
}

static bool version_ok(const struct interpose_target *t, void *h, const char *name, const char *ver,
		       void *r)
{
	if (!t->version || !*t->version)
		return true;
	if (ver)
		return strcmp(ver, t->version) == 0;
	/* dlsym gives the default version: is that the pinned one? */
	return dlvsym(h, name, t->version) == r;
}

/* Looks NAME up as the caller asked and swaps in the closure of the first
 * configured function it matches. */
static void *sym_for(void *h, const char *name, const char *ver, void *ra)
{
	void *r = ver ? dlvsym(h, name, ver) : dlsym(h, name);
	Dl_info info;
	struct link_map *lm = NULL;
	/* The caller's scope may hold a local group the shim cannot see. */
	if (!r && h == RTLD_DEFAULT && dladdr1(ra, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm)
		r = ver ? dlvsym(lm, name, ver) : dlsym(lm, name);
	if (!r || canonical_plt(r))
		return r;
	for (size_t i = 0; i < g_n; i++) {
		const struct interpose_target *t = &g_targets[i];
		if (strcmp(t->name, name) != 0 || !version_ok(t, h, name, ver, r) ||
		    !interpose_library_ok(t, r))
			continue;
		void *c = g_hook(g_ctx, (int)i, r);
		(void)dlerror(); /* the caller's lookup succeeded */
		if (c) {
			log_msg(TXC_LOG_DEBUG, "dlsym %s: returning the cached closure", name);
			redir_dlsym((int)i, ra);
		}
		return c ? c : r;
	}
	interpose_any_fn any = interpose_get_any(); /* profile mode: time it */
	void *stub = any ? any(name, r, 1) : NULL;
	return stub ? stub : r;
}

TXC_TAILCALL static void *w_dlsym(void *h, const char *name)
{
	if (h != RTLD_NEXT && (configured(name) || interpose_get_any()))
		return sym_for(h, name, NULL, __builtin_return_address(0));
	return dlsym(h, name); /* tail call: glibc sees our caller */
}

TXC_TAILCALL static void *w_dlvsym(void *h, const char *name, const char *ver)
{
	if (h != RTLD_NEXT && ver && (configured(name) || interpose_get_any()))
		return sym_for(h, name, ver, __builtin_return_address(0));
	return dlvsym(h, name, ver); /* tail call: glibc sees our caller */
}

/* ---- dlclose ---- */

void dl_after_unload(void (*fn)(void))
{
	__atomic_store_n(&g_unloaded, fn, __ATOMIC_RELEASE);
}

/* Before this thread can load another module at the same place. */
static int w_dlclose(void *h)
{
	int rc = dlclose(h);
	void (*unloaded)(void) = __atomic_load_n(&g_unloaded, __ATOMIC_ACQUIRE);
	if (unloaded) {
		int saved = errno;
		unloaded();
		errno = saved;
	}
	return rc;
}

/* ---- dladdr, dladdr1 ---- */

void dl_set_unwrap(void *(*fn)(const void *code))
{
	g_unwrap = fn;
}

/* The definition ADDR's closure stands for, or NULL. */
static void *unwrap(const void *addr)
{
	return g_unwrap ? g_unwrap(addr) : NULL;
}

static int w_dladdr(const void *addr, Dl_info *info)
{
	void *real = unwrap(addr);
	int rc = dladdr(real ? real : addr, info);
	if (rc && real && info->dli_saddr == real)
		info->dli_saddr = (void *)addr;
	return rc;
}

static int w_dladdr1(const void *addr, Dl_info *info, void **extra, int flags)
{
	void *real = unwrap(addr);
	int rc = dladdr1(real ? real : addr, info, extra, flags);
	if (rc && real && info->dli_saddr == real)
		info->dli_saddr = (void *)addr;
	return rc;
}
