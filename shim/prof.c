/* prof.c - profile mode's records and report; see prof.h. Which functions
 * never get a trampoline, and why, is the list below. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closures.h"
#include "err.h"
#include "log.h"
#include "prof.h"
#include "prof_tramp.h"
#include "sigguard.h"

/* One configured function's counters and its keys (open addressing on the
 * first 8 bytes of the key digest; 0 marks a free entry). */
struct kfn {
	void *real; /* the first definition called: names the library */
	uint64_t calls, ns, unkeyed, lost;
	uint64_t h[PROF_KEYS], cnt[PROF_KEYS], kns[PROF_KEYS];
};

static bool g_on;
static char g_path[PATH_MAX];
static const struct txc_config *g_cfg;
static struct kfn *g_k; /* g_cfg->nfns entries, mmap'ed */
static int g_busy;	/* atomic: a flush is being written */

/* Never given a trampoline: functions that look at or replace their
 * caller's frame or return address, that switch stacks, that do not
 * return, or that walk the frames (a walk stops at a timed frame), and
 * the loader's own. The signal functions are left to sigguard (wrap.h). */
static const char *const never[] = {
    "setjmp",
    "_setjmp",
    "__sigsetjmp",
    "sigsetjmp",
    "__setjmp",
    "longjmp",
    "_longjmp",
    "siglongjmp",
    "__longjmp_chk",
    "vfork",
    "__vfork",
    "clone",
    "clone3",
    "getcontext",
    "setcontext",
    "swapcontext",
    "makecontext",
    "__libc_start_main",
    "__tls_get_addr",
    "exit",
    "abort",
    "quick_exit",
    "__stack_chk_fail",
    "__fortify_fail",
    "__chk_fail",
    "sigaction",
    "signal",
    "sysv_signal",
    "bsd_signal",
    "sigset",
    "__gmon_start__",
    "__cxa_call_unexpected",
};
static const char *const never_prefix[] = {"dl", "_dl_", "_Unwind_"};
/* Start an unwind, or walk the frames (backtrace: a walk stops at a
 * return trampoline, which has no unwind information): untimed, and the
 * timed frames above are given back their return addresses first
 * (PROF_TRAMP_REPAIR). C++'s std::__throw_* helpers too (by name, below). */
static const char *const unwinds[] = {"__cxa_throw",	      "__cxa_rethrow",
				      "pthread_exit",	      "_Unwind_RaiseException",
				      "_Unwind_Resume",	      "_Unwind_Resume_or_Rethrow",
				      "_Unwind_ForcedUnwind", "backtrace",
				      "_Unwind_Backtrace"};
/* Called untimed after a flush: the process image ends there. */
static const char *const flush_first[] = {"execve", "execv",  "execvp",	 "execvpe", "execl",
					  "execlp", "execle", "fexecve", "_exit",   "_Exit"};

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static bool starts_unwind(const char *name)
{
	if (strncmp(name, "_ZSt", 4) == 0 && strstr(name, "throw"))
		return true;
	return in_list(name, unwinds, sizeof(unwinds) / sizeof(*unwinds));
}

static bool never_timed(const char *name)
{
	if (starts_unwind(name))
		return false;
	for (size_t i = 0; i < sizeof(never_prefix) / sizeof(*never_prefix); i++)
		if (strncmp(name, never_prefix[i], strlen(never_prefix[i])) == 0)
			return true;
	return in_list(name, never, sizeof(never) / sizeof(*never));
}

static void child_zero(void)
{
	prof_tramp_zero();
	if (g_k)
		memset(g_k, 0, (size_t)g_cfg->nfns * sizeof(*g_k));
}

/* Before exec* and _exit. Not from a signal handler (a handler that
 * calls _exit): the flush formats, opens and asks dladdr, which may wait
 * for a lock the interrupted code holds; that process's records are lost
 * instead. */
static void flush_before_exit(void)
{
	if (!sigguard_in_handler())
		prof_flush();
}

int prof_init(const struct txc_config *cfg)
{
	const char *p = secure_getenv("TXCACHE_PROFILE");
	if (!p || !*p)
		return 0;
	struct stat st;
	if (!prof_tramp_supported()) {
		log_msg(TXC_LOG_ERROR, "TXCACHE_PROFILE: profile mode needs x86_64; the shim "
				       "stays inert");
		return TXC_EUNAVAIL;
	}
	if (strlen(p) >= sizeof(g_path) || lstat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_msg(TXC_LOG_ERROR,
			"TXCACHE_PROFILE %s: not an existing regular file; the "
			"shim stays inert",
			p);
		return TXC_EUNAVAIL;
	}
	memcpy(g_path, p, strlen(p) + 1);
	g_cfg = cfg;
	if (cfg->nfns > 0) {
		void *k = mmap(NULL, (size_t)cfg->nfns * sizeof(*g_k), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (k == MAP_FAILED) {
			log_msg(TXC_LOG_ERROR, "profile: no memory; the shim stays inert");
			return TXC_EUNAVAIL;
		}
		g_k = k;
	}
	prof_tramp_set_flush(flush_before_exit);
	pthread_atfork(NULL, NULL, child_zero);
	g_on = true;
	return 1;
}

bool prof_on(void)
{
	return g_on;
}

/* Counts one call of key H in K's table. */
static void count_key(struct kfn *k, uint64_t h, int64_t ns)
{
	uint32_t i = (uint32_t)(h % PROF_KEYS);
	for (uint32_t n = 0; n < PROF_KEYS; n++, i = (i + 1) % PROF_KEYS) {
		uint64_t cur = __atomic_load_n(&k->h[i], __ATOMIC_ACQUIRE);
		if (cur == 0 && __atomic_compare_exchange_n(&k->h[i], &cur, h, false,
							    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			cur = h;
		if (cur == h) {
			__atomic_add_fetch(&k->cnt[i], 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&k->kns[i], (uint64_t)ns, __ATOMIC_RELAXED);
			return;
		}
	}
	__atomic_add_fetch(&k->lost, 1, __ATOMIC_RELAXED);
}

void prof_keyed(int fn, void *real, const struct txc_digest *digest, int64_t ns)
{
	if (!g_k || fn < 0 || fn >= g_cfg->nfns)
		return;
	struct kfn *k = &g_k[fn];
	void *none = NULL;
	ns = ns > 0 ? ns : 0;
	__atomic_compare_exchange_n(&k->real, &none, real, false, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
	__atomic_add_fetch(&k->calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&k->ns, (uint64_t)ns, __ATOMIC_RELAXED);
	if (!digest) {
		__atomic_add_fetch(&k->unkeyed, 1, __ATOMIC_RELAXED);
		return;
	}
	uint64_t h;
	memcpy(&h, digest->b, sizeof(h));
	count_key(k, h ? h : 1, ns);
}

/* A dlsym result is timed only when it is a function (an object's address
 * must stay the object's). */
static bool is_function(void *real)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	if (!dladdr1(real, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return false;
	int type = ELF64_ST_TYPE(sym->st_info);
	return type == STT_FUNC || type == STT_GNU_IFUNC;
}

void *prof_any(const char *name, void *real, int from_dlsym)
{
	if (!g_on || !name || !real || never_timed(name) || closures_real_of(real))
		return NULL;
	if (from_dlsym && !is_function(real))
		return NULL;
	unsigned flags = 0;
	if (in_list(name, flush_first, sizeof(flush_first) / sizeof(*flush_first)))
		flags = PROF_TRAMP_FLUSH;
	else if (starts_unwind(name))
		flags = PROF_TRAMP_REPAIR;
	return prof_tramp_make(name, real, flags);
}

/* ---- the report ---- */

struct out {
	int fd;
	size_t len;
	char buf[16384];
};

static void out_flush(struct out *o)
{
	size_t off = 0;
	while (off < o->len) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);
		if (n <= 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	o->len = 0;
}

/* Appends S; as a FIELD, with tabs and newlines as '?'. */
static void out_text(struct out *o, const char *s, bool field)
{
	for (; *s; s++) {
		if (o->len == sizeof(o->buf))
			out_flush(o);
		o->buf[o->len++] = field && (*s == '\t' || *s == '\n') ? '?' : *s;
	}
}

/* Appends one line: TYPE, pid, the NAME and WHERE fields, then the
 * numbers. Lines are written whole (a buffer holds many). */
static void out_line(struct out *o, char type, const char *name, const char *where,
		     const uint64_t *nums, int nnums)
{
	char head[32], tail[128] = "";
	int hl = snprintf(head, sizeof(head), "%c\t%d\t", type, (int)getpid());
	int tl = 0;
	for (int i = 0; i < nnums; i++)
		tl += snprintf(tail + tl, sizeof(tail) - (size_t)tl, "\t%llu",
			       (unsigned long long)nums[i]);
	if (o->len + (size_t)hl + strlen(name) + strlen(where) + (size_t)tl + 2 >= sizeof(o->buf))
		out_flush(o);
	out_text(o, head, false);
	out_text(o, name, true);
	out_text(o, "\t", false);
	out_text(o, where, true);
	out_text(o, tail, false);
	o->buf[o->len++] = '\n';
}

static const char *library_of(void *real)
{
	Dl_info info;
	return real && dladdr(real, &info) && info.dli_fname ? info.dli_fname : "";
}

static void each_generic(void *ctx, const char *name, void *real, uint64_t calls, uint64_t ns)
{
	const uint64_t n[2] = {calls, ns};
	out_line(ctx, 'F', name, library_of(real), n, 2);
}

static void write_keyed(struct out *o, int fn)
{
	struct kfn *k = &g_k[fn];
	const char *name = g_cfg->fns[fn].sig.name;
	const uint64_t n[4] = {__atomic_exchange_n(&k->calls, 0, __ATOMIC_RELAXED),
			       __atomic_exchange_n(&k->ns, 0, __ATOMIC_RELAXED),
			       __atomic_exchange_n(&k->unkeyed, 0, __ATOMIC_RELAXED),
			       __atomic_exchange_n(&k->lost, 0, __ATOMIC_RELAXED)};
	if (n[0] == 0)
		return;
	out_line(o, 'K', name, library_of(k->real), n, 4);
	for (int i = 0; i < PROF_KEYS; i++) {
		if (!__atomic_load_n(&k->h[i], __ATOMIC_ACQUIRE))
			continue;
		const uint64_t d[2] = {__atomic_exchange_n(&k->cnt[i], 0, __ATOMIC_RELAXED),
				       __atomic_exchange_n(&k->kns[i], 0, __ATOMIC_RELAXED)};
		char hex[17];
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)k->h[i]);
		if (d[0])
			out_line(o, 'D', name, hex, d, 2);
	}
}

void prof_flush(void)
{
	static struct out o; /* one flush at a time (g_busy) */
	int expect = 0;
	if (!g_on || !__atomic_compare_exchange_n(&g_busy, &expect, 1, false, __ATOMIC_ACQUIRE,
						  __ATOMIC_RELAXED))
		return;
	int saved = errno;
	o.fd = open(g_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	o.len = 0;
	if (o.fd >= 0) {
		char exe[PATH_MAX];
		ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[len > 0 ? len : 0] = '\0';
		out_line(&o, 'P', exe, "", NULL, 0);
		prof_tramp_drain(each_generic, &o);
		for (int fn = 0; g_k && fn < g_cfg->nfns; fn++)
			write_keyed(&o, fn);
		out_flush(&o);
		close(o.fd);
	}
	__atomic_store_n(&g_busy, 0, __ATOMIC_RELEASE);
	errno = saved;
}

__attribute__((destructor)) static void prof_fini(void)
{
	prof_flush();
}
