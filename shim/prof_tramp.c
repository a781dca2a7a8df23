/* prof_tramp.c - stubs, shadow stack and counters of the timing
 * trampolines; see prof_tramp.h. Tables are mmap'ed: stubs are made at
 * load time, where malloc may itself be called through a stub. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "prof_tramp.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#define STUB_SIZE  16
#define CHUNK_FNS  4096 /* stubs per chunk; its first STUB_SIZE bytes hold the common entry */
#define CHUNK_SIZE ((CHUNK_FNS + 1) * STUB_SIZE)
#define NCHUNKS	   (PROF_MAX / CHUNK_FNS)
#define HASH_SIZE  (2 * PROF_MAX)
#define NAMES_SIZE (2u << 20)

struct ent {
	const char *name;
	void *real;
	unsigned flags;
	uint64_t calls; /* atomic */
	uint64_t ticks; /* atomic: ticks() units */
};

struct frame {
	void **slot; /* where the caller's return address was */
	void *ret;   /* that address */
	uint64_t start;
	uint32_t index;
};

struct shadow {
	uint32_t depth;
	struct frame f[PROF_DEPTH];
};

static struct ent *g_ents;
static uint32_t g_nents; /* atomic: entries published */
static uint32_t *g_hash; /* index + 1 by real address; 0: empty */
static unsigned char *g_chunks[NCHUNKS];
static char *g_names;
static size_t g_names_used;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*g_flush)(void);
static pthread_key_t g_key;
static int g_key_ok;

/* (unused elsewhere than x86_64, where nothing is timed) */
#define X86_ONLY __attribute__((unused))

static __thread struct shadow *t_ss X86_ONLY __attribute__((tls_model("initial-exec")));

#if defined(__x86_64__)
extern char prof_tramp_common[], prof_tramp_ret[];

struct pair {
	void *real;
	void *ret; /* the return trampoline, or NULL: untimed */
};

/* Called from prof_tramp.S only. */
struct pair prof_tramp_enter(uint64_t index, void **slot);
void *prof_tramp_exit(void **slot);

int prof_tramp_supported(void)
{
	return 1;
}
#else
int prof_tramp_supported(void)
{
	return 0;
}
#endif

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Times are taken in TSC ticks when the TSC is invariant (rdtsc costs
 * about half of a clock_gettime that a VM's kvm-clock does not serve from
 * the vDSO), converted to ns at each drain with the ratio measured since
 * the tables were made; else in ns. */
static bool g_tsc X86_ONLY;
static uint64_t g_tsc0 X86_ONLY, g_ns0 X86_ONLY;

static void clock_init(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;
	if (__get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8))) {
		g_ns0 = now_ns();
		g_tsc0 = __rdtsc();
		g_tsc = true;
	}
#endif
}

X86_ONLY static uint64_t ticks(void)
{
#if defined(__x86_64__)
	if (g_tsc)
		return __rdtsc();
#endif
	return now_ns();
}

static double ns_per_tick(void)
{
#if defined(__x86_64__)
	uint64_t t = __rdtsc(), n = now_ns();
	if (g_tsc && t > g_tsc0 && n > g_ns0)
		return (double)(n - g_ns0) / (double)(t - g_tsc0);
#endif
	return 1.0;
}

static void *map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* The thread is ending (a key destructor runs in it): calls it still
 * makes (other destructors, libc's freeres) map a new one. */
static void drop_shadow(void *p)
{
	if (t_ss == p)
		t_ss = NULL;
	munmap(p, sizeof(struct shadow));
}

/* The tables, once. 0 or -1. Under g_lock. */
static int tables(void)
{
	if (g_ents)
		return 0;
	g_hash = map(HASH_SIZE * sizeof(*g_hash));
	g_names = map(NAMES_SIZE);
	struct ent *e = map(PROF_MAX * sizeof(*e));
	if (!g_hash || !g_names || !e)
		return -1;
	g_key_ok = pthread_key_create(&g_key, drop_shadow) == 0;
	clock_init();
	__atomic_store_n(&g_ents, e, __ATOMIC_RELEASE);
	return 0;
}

/* Stubs [first, first + CHUNK_FNS): written whole, then read+execute. */
static unsigned char *make_chunk(uint32_t first)
{
#if defined(__x86_64__)
	unsigned char *c = map(CHUNK_SIZE);
	if (!c)
		return NULL;
	void *common = prof_tramp_common;
	memcpy(c, &common, sizeof(common));
	for (uint32_t i = 0; i < CHUNK_FNS; i++) {
		unsigned char *s = c + (i + 1) * STUB_SIZE;
		uint32_t index = first + i;
		int32_t disp = (int32_t)(c - (s + 11)); /* jmp *[rip+disp]: rip is s + 11 */
		s[0] = 0x68;				/* push imm32 */
		memcpy(s + 1, &index, 4);
		s[5] = 0xff; /* jmp *disp32(%rip) */
		s[6] = 0x25;
		memcpy(s + 7, &disp, 4);
		memset(s + 11, 0xcc, STUB_SIZE - 11); /* int3 */
	}
	if (mprotect(c, CHUNK_SIZE, PROT_READ | PROT_EXEC) != 0) {
		munmap(c, CHUNK_SIZE);
		return NULL;
	}
	return c;
#else
	(void)first;
	return NULL;
#endif
}

static void *stub_of(uint32_t index)
{
	unsigned char *c = __atomic_load_n(&g_chunks[index / CHUNK_FNS], __ATOMIC_ACQUIRE);
	return c + (index % CHUNK_FNS + 1) * STUB_SIZE;
}

bool prof_tramp_is_stub(const void *addr)
{
	const unsigned char *a = addr;
	for (int i = 0; i < NCHUNKS; i++) {
		const unsigned char *c = __atomic_load_n(&g_chunks[i], __ATOMIC_ACQUIRE);
		if (!c)
			return false;
		if (a >= c && a < c + CHUNK_SIZE)
			return true;
	}
	return false;
}

static uint32_t hash_of(const void *real)
{
	uintptr_t h = (uintptr_t)real;
	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15u;
	return (uint32_t)(h >> 32) % HASH_SIZE;
}

static const char *copy_name(const char *name)
{
	size_t len = strlen(name) + 1;
	if (len > NAMES_SIZE - g_names_used)
		return "?";
	char *d = g_names + g_names_used;
	memcpy(d, name, len);
	g_names_used += len;
	return d;
}

/* A new entry for REAL at hash slot H. Under g_lock. */
static void *add_entry(const char *name, void *real, unsigned flags, uint32_t h)
{
	uint32_t n = g_nents;
	if (n == PROF_MAX)
		return NULL;
	if (!g_chunks[n / CHUNK_FNS]) {
		unsigned char *c = make_chunk(n);
		if (!c)
			return NULL;
		__atomic_store_n(&g_chunks[n / CHUNK_FNS], c, __ATOMIC_RELEASE);
	}
	g_ents[n] = (struct ent){copy_name(name), real, flags, 0, 0};
	g_hash[h] = n + 1;
	__atomic_store_n(&g_nents, n + 1, __ATOMIC_RELEASE);
	return stub_of(n);
}

void *prof_tramp_make(const char *name, void *real, unsigned flags)
{
	if (!prof_tramp_supported() || !real || prof_tramp_is_stub(real))
		return NULL;
	int saved = errno;
	void *stub = NULL;
	pthread_mutex_lock(&g_lock);
	if (tables() == 0) {
		uint32_t h = hash_of(real);
		while (g_hash[h] && g_ents[g_hash[h] - 1].real != real)
			h = (h + 1) % HASH_SIZE;
		stub = g_hash[h] ? stub_of(g_hash[h] - 1) : add_entry(name, real, flags, h);
	}
	pthread_mutex_unlock(&g_lock);
	errno = saved;
	return stub;
}

void prof_tramp_set_flush(void (*fn)(void))
{
	g_flush = fn;
}

void prof_tramp_drain(prof_tramp_each_fn fn, void *ctx)
{
	uint32_t n = __atomic_load_n(&g_nents, __ATOMIC_ACQUIRE);
	double scale = n ? ns_per_tick() : 1.0;
	for (uint32_t i = 0; i < n; i++) {
		struct ent *e = &g_ents[i];
		uint64_t calls = __atomic_exchange_n(&e->calls, 0, __ATOMIC_RELAXED);
		uint64_t t = __atomic_exchange_n(&e->ticks, 0, __ATOMIC_RELAXED);
		if (calls)
			fn(ctx, e->name, e->real, calls, (uint64_t)((double)t * scale));
	}
}

void prof_tramp_zero(void)
{
	uint32_t n = __atomic_load_n(&g_nents, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n; i++) {
		__atomic_store_n(&g_ents[i].calls, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&g_ents[i].ticks, 0, __ATOMIC_RELAXED);
	}
}

#if defined(__x86_64__)
/* This thread's shadow stack, mapped on its first timed call (mmap is
 * async-signal-safe; the key unmaps it when the thread ends). */
static struct shadow *shadow(void)
{
	struct shadow *ss = t_ss;
	if (ss)
		return ss;
	int saved = errno;
	ss = map(sizeof(*ss));
	if (ss && g_key_ok)
		pthread_setspecific(g_key, ss);
	t_ss = ss;
	errno = saved;
	return ss;
}

/* Entries at the top that can no longer be running, on the same stack:
 * those whose slot lies below SLOT (a call made from the frame at SLOT
 * means every frame below it is gone: a longjmp skipped them), and those
 * at SLOT itself unless SLOT still leads to the return trampoline, which
 * means a timed function is making a tail call (jmp) through a stub: that
 * entry is live, and the new one goes above it. Without this, a program
 * that longjmps out of a comparator again and again fills the stack with
 * dead entries. Slots farther away may be on another stack (sigaltstack):
 * left for the exit rule (pop_at). */
#define SAME_STACK_SPAN (64 * 1024)

static void drop_stale(struct shadow *ss, void **slot)
{
	bool tail = *slot == (void *)prof_tramp_ret;
	uint32_t d = ss->depth;
	while (d > 0 && (ss->f[d - 1].slot < slot || (ss->f[d - 1].slot == slot && !tail)) &&
	       (uintptr_t)slot - (uintptr_t)ss->f[d - 1].slot < SAME_STACK_SPAN)
		d--;
	if (d != ss->depth) {
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		ss->depth = d;
	}
}

/* PROF_TRAMP_REPAIR: entries at or above SLOT are the frames an unwind
 * started here may cross: each whose slot still leads to the trampoline
 * gets its return address back; all of them are forgotten (the others
 * are gone). Entries below SLOT (dead, or on another stack) stay. */
static void repair(void **slot)
{
	struct shadow *ss = t_ss;
	if (!ss)
		return;
	uint32_t d = 0;
	for (uint32_t i = ss->depth; i-- > 0;)
		if (ss->f[i].slot >= slot && *ss->f[i].slot == (void *)prof_tramp_ret)
			*ss->f[i].slot = ss->f[i].ret;
	for (uint32_t i = 0; i < ss->depth; i++)
		if (ss->f[i].slot < slot)
			ss->f[d++] = ss->f[i];
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ss->depth = d;
}

struct pair prof_tramp_enter(uint64_t index, void **slot)
{
	struct ent *e = &g_ents[index];
	struct pair p = {e->real, NULL};
	if (e->flags & PROF_TRAMP_FLUSH) {
		int saved = errno;
		if (g_flush)
			g_flush();
		errno = saved;
		return p;
	}
	if (e->flags & PROF_TRAMP_REPAIR) {
		repair(slot);
		return p;
	}
	struct shadow *ss = shadow();
	if (!ss)
		return p;
	drop_stale(ss, slot); /* first: a stack full of stale entries recovers */
	if (ss->depth >= PROF_DEPTH)
		return p;
	/* reserve first: a signal handler's calls push above this entry */
	uint32_t d = ss->depth;
	__atomic_store_n(&ss->depth, d + 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ss->f[d] = (struct frame){slot, *slot, 0, (uint32_t)index};
	ss->f[d].start = ticks();
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	p.ret = prof_tramp_ret;
	return p;
}

/* Removes entry I: the entries above it whose slot lies below SLOT on the
 * same stack (closer than SAME_STACK_SPAN, as drop_stale) are frames a
 * longjmp skipped (dropped); the others belong to another stack (kept,
 * moved down): a coroutine on a lower stack may still be inside a timed
 * call that this one's callback switched away from. */
static void pop_at(struct shadow *ss, uint32_t i, void **slot)
{
	uint32_t d = i;
	for (uint32_t j = i + 1; j < ss->depth; j++)
		if (ss->f[j].slot > slot ||
		    (uintptr_t)slot - (uintptr_t)ss->f[j].slot >= SAME_STACK_SPAN)
			ss->f[d++] = ss->f[j];
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ss->depth = d;
}

void *prof_tramp_exit(void **slot)
{
	uint64_t end = ticks();
	struct shadow *ss = t_ss;
	uint32_t i = ss->depth;
	while (i > 0 && ss->f[i - 1].slot != slot)
		i--;
	/* Found unless a frame was copied to another place and resumed there
	 * (stack-copying green threads): no return address is left to go to.
	 * Said plainly, then the same fault as a smashed stack. */
	if (i == 0) {
		static const char msg[] = "txcache: profile: a timed call returned to a frame "
					  "it no longer knows (a copied stack?); stopping\n";
		if (write(2, msg, sizeof(msg) - 1) < 0)
			__builtin_trap();
		__builtin_trap();
	}
	struct frame f = ss->f[i - 1];
	pop_at(ss, i - 1, slot);
	struct ent *e = &g_ents[f.index];
	__atomic_add_fetch(&e->calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&e->ticks, end - f.start, __ATOMIC_RELAXED);
	return f.ret;
}
#endif
