/* test_interpose.c - GOT rewriting against the fixtures of interpose.mk.
 *
 * The fixtures are dlopen()ed RTLD_LOCAL, so they are outside this
 * program's DT_NEEDED closure (patched) while libc and friends are inside
 * it (never patched). Each test opens fresh copies and closes them again.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "interpose.h"

typedef int (*binop_fn)(int, int);
typedef size_t (*strlen_fn)(const char *);

#define NFN 4

/* What the hook saw, per target index. */
static struct {
	void *fake[NFN];
	void *real[NFN];   /* last REAL passed */
	void *expect[NFN]; /* NULL: do not check */
	int calls[NFN];
	int bad_real; /* a REAL that differed from expect */
	int refuse;   /* return NULL for everything */
} hs;

static int fake_add(int a, int b)
{
	return ((binop_fn)hs.real[0])(a, b) + 1000;
}

static int fake_mul(int a, int b)
{
	return ((binop_fn)hs.real[1])(a, b) + 2000;
}

static size_t fake_strlen(const char *s)
{
	return ((strlen_fn)hs.real[0])(s) + 100;
}

static void *hook(void *ctx, int fn, void *real)
{
	(void)ctx;
	if (fn < 0 || fn >= NFN)
		return NULL;
	hs.calls[fn]++;
	if (real == hs.fake[fn] || hs.refuse)
		return NULL; /* already ours: never wrap twice */
	if (hs.expect[fn] && real != hs.expect[fn])
		hs.bad_real++;
	hs.real[fn] = real;
	return hs.fake[fn];
}

static void hook_reset(void *fake0, void *fake1)
{
	memset(&hs, 0, sizeof(hs));
	hs.fake[0] = fake0;
	hs.fake[1] = fake1;
}

static char fixdir[PATH_MAX + 32];

static void find_fixtures(void)
{
	const char *env = getenv("TXCACHE_FIXTURES");
	if (env && *env) {
		snprintf(fixdir, sizeof(fixdir), "%s", env);
		return;
	}
	/* build/tests/test_interpose -> build/fixtures */
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(fixdir, sizeof(fixdir), "%s/../fixtures", n > 0 ? exe : "build/tests");
}

static void *open_fix(const char *name, int flags)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", fixdir, name);
	void *h = dlopen(path, flags);
	if (!h && !(flags & RTLD_NOLOAD))
		printf("# dlopen %s: %s\n", path, dlerror());
	return h;
}

static void *sym(void *h, const char *name)
{
	return h ? dlsym(h, name) : NULL;
}

/* The genuine probe_add, from the target library's own handle. */
static void *genuine(const char *name, const char *ver)
{
	void *t = open_fix("libprobe_target.so", RTLD_LAZY | RTLD_NOLOAD);
	void *r = t ? (ver ? dlvsym(t, name, ver) : dlsym(t, name)) : NULL;
	if (t)
		dlclose(t);
	return r;
}

/* Counts the words equal to VALUE in the readable mappings of the file
 * whose path ends in "/LIB", split by whether the page is writable. */
static void find_value(const char *lib, void *value, int *ro, int *rw)
{
	*ro = *rw = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 128], want[256];
	snprintf(want, sizeof(want), "/%s\n", lib);
	while (f && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line), wl = strlen(want);
		unsigned long lo, hi;
		char perms[5];
		if (len < wl || strcmp(line + len - wl, want) != 0)
			continue;
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 || perms[0] != 'r')
			continue;
		for (uintptr_t a = lo; a < hi; a += sizeof(void *)) {
			if (*(void **)a == value)
				++*(perms[1] == 'w' ? rw : ro);
		}
	}
	if (f)
		fclose(f);
}

static int patch(const struct interpose_target *t, size_t n)
{
	int np = -1;
	int rc = interpose_patch_all(t, n, hook, NULL, &np);
	return rc ? rc - 1000 : np;
}

static const struct interpose_target t_add[] = {{"probe_add", NULL, NULL}};

static void test_lazy(int resolve_first)
{
	void *h = open_fix("libprobe_caller.so", RTLD_LAZY | RTLD_LOCAL);
	binop_fn add = (binop_fn)sym(h, "caller_add");
	CHECK(add != NULL, "lazy caller loaded");
	if (!add)
		return;
	if (resolve_first)
		CHECK(add(1, 2) == 3, "lazy: unpatched call resolves the slot");
	hook_reset((void *)fake_add, NULL);
	hs.expect[0] = genuine("probe_add", NULL);
	CHECK(hs.expect[0] != NULL, "genuine probe_add found");
	CHECK(patch(t_add, 1) == 1, "lazy%s: one JUMP_SLOT patched",
	      resolve_first ? " resolved" : "");
	CHECK(hs.calls[0] == 1 && hs.bad_real == 0,
	      "lazy%s: hook got the real probe_add, not the PLT", resolve_first ? " resolved" : "");
	CHECK(add(1, 2) == 1003, "lazy%s: call goes through the replacement",
	      resolve_first ? " resolved" : "");
	CHECK(add(1, 2) == 1003, "lazy: a second call is not re-resolved over the patch");
	int ro, rw;
	find_value("libprobe_caller.so", (void *)fake_add, &ro, &rw);
	CHECK(rw == 1 && ro == 0, "lazy: the slot is in a writable .got.plt (ro=%d rw=%d)", ro, rw);
	dlclose(h);
}

static void test_now_and_twice(void)
{
	void *h = open_fix("libprobe_caller_now.so", RTLD_NOW | RTLD_LOCAL);
	binop_fn add = (binop_fn)sym(h, "caller_add");
	CHECK(add != NULL, "BIND_NOW caller loaded");
	if (!add)
		return;
	hook_reset((void *)fake_add, NULL);
	hs.expect[0] = genuine("probe_add", NULL);
	CHECK(patch(t_add, 1) == 1, "now: one slot patched");
	CHECK(hs.bad_real == 0 && hs.real[0] == hs.expect[0], "now: real is probe_add");
	CHECK(add(1, 2) == 1003, "now: call goes through the replacement");
	int ro, rw;
	find_value("libprobe_caller_now.so", (void *)fake_add, &ro, &rw);
	CHECK(ro == 1 && rw == 0,
	      "now: slot written, full-RELRO page read-only again (ro=%d rw=%d)", ro, rw);

	int calls = hs.calls[0];
	CHECK(patch(t_add, 1) == 0, "second patch writes nothing");
	CHECK(hs.calls[0] == calls + 1, "second patch still asks the hook");
	CHECK(add(1, 2) == 1003, "no double wrapping");
	dlclose(h);
}

static void test_noplt_and_addr(void)
{
	void *h = open_fix("libprobe_caller_noplt.so", RTLD_LAZY | RTLD_LOCAL);
	void *h2 = open_fix("libprobe_addr.so", RTLD_LAZY | RTLD_LOCAL);
	binop_fn add = (binop_fn)sym(h, "caller_add");
	binop_fn (*addr)(void) = (binop_fn(*)(void))sym(h2, "caller_addr");
	CHECK(add && addr, "-fno-plt caller and address taker loaded");
	if (!add || !addr)
		return;
	void *real = genuine("probe_add", NULL);
	CHECK((void *)addr() == real, "before: &probe_add is the genuine one");
	hook_reset((void *)fake_add, NULL);
	hs.expect[0] = real;
	CHECK(patch(t_add, 1) == 2, "-fno-plt and address-taking GLOB_DAT slots patched");
	CHECK(hs.bad_real == 0, "GLOB_DAT: real is probe_add");
	CHECK(add(1, 2) == 1003, "-fno-plt call goes through the replacement");
	CHECK(addr() == fake_add, "taken address is the replacement");
	int ro, rw;
	find_value("libprobe_addr.so", (void *)fake_add, &ro, &rw);
	CHECK(ro == 1 && rw == 0, "GLOB_DAT under RELRO: page read-only again (ro=%d rw=%d)", ro,
	      rw);
	dlclose(h2);
	dlclose(h);
}

static void test_refuse(void)
{
	void *h = open_fix("libprobe_caller.so", RTLD_LAZY | RTLD_LOCAL);
	void *h2 = open_fix("libprobe_caller_now.so", RTLD_NOW | RTLD_LOCAL);
	binop_fn add = (binop_fn)sym(h, "caller_add"), add2 = (binop_fn)sym(h2, "caller_add");
	if (!add || !add2)
		return;
	hook_reset((void *)fake_add, NULL);
	hs.refuse = 1;
	CHECK(patch(t_add, 1) == 0, "hook returning NULL: nothing written");
	CHECK(hs.calls[0] == 2, "hook asked once per slot (%d)", hs.calls[0]);
	CHECK(add(1, 2) == 3 && add2(1, 2) == 3, "hook returning NULL: calls unchanged");
	dlclose(h2);
	dlclose(h);
}

static void test_version_and_library(void)
{
	/* Lazy and BIND_NOW: a wrong version must be rejected by the match,
	 * not only by failing to resolve it. */
	void *h = open_fix("libprobe_caller.so", RTLD_LAZY | RTLD_LOCAL);
	void *h2 = open_fix("libprobe_caller_now.so", RTLD_NOW | RTLD_LOCAL);
	binop_fn add = (binop_fn)sym(h, "caller_add"), mul = (binop_fn)sym(h, "caller_mul");
	binop_fn mul2 = (binop_fn)sym(h2, "caller_mul");
	if (!add || !mul || !mul2)
		return;
	const struct interpose_target miss[] = {{"probe_add", "PROBE_2", NULL},
						{"probe_mul", "PROBE_1", NULL},
						{"probe_add", NULL, "libc.so.6"},
						{"probe_add", NULL, "libprobe"}};
	hook_reset((void *)fake_add, (void *)fake_mul);
	CHECK(patch(miss, 4) == 0, "wrong version or library: nothing patched");
	CHECK(hs.calls[0] + hs.calls[1] + hs.calls[2] + hs.calls[3] == 0, "hook never asked");

	const struct interpose_target hit[] = {{"probe_add", NULL, "libprobe_target.so"},
					       {"probe_mul", "PROBE_2", "libprobe_target"}};
	hook_reset((void *)fake_add, (void *)fake_mul);
	hs.expect[1] = genuine("probe_mul", "PROBE_2");
	CHECK(hs.expect[1] != genuine("probe_mul", "PROBE_1"), "two probe_mul versions differ");
	CHECK(patch(hit, 2) == 4, "version and library match in both modules");
	CHECK(hs.bad_real == 0, "versioned slots resolved to probe_mul@PROBE_2");
	CHECK(add(2, 3) == 1005 && mul(2, 3) == 2007 && mul2(2, 3) == 2007, "all replaced");
	dlclose(h2);
	dlclose(h);
}

/* libc, libffi, libmemcached... import strlen too but are in this
 * program's DT_NEEDED closure: only the three fixtures may be asked about. */
static void test_closure_skipped(void)
{
	const char *libs[] = {"libprobe_caller.so", "libprobe_caller_now.so",
			      "libprobe_caller_noplt.so"};
	void *h[3];
	for (int i = 0; i < 3; i++)
		h[i] = open_fix(libs[i], RTLD_LAZY | RTLD_LOCAL);
	if (!h[0] || !h[1] || !h[2])
		return;
	CHECK(dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD) != NULL, "libc is loaded");
	const struct interpose_target t[] = {{"strlen", NULL, NULL}};
	hook_reset((void *)fake_strlen, NULL);
	CHECK(patch(t, 1) == 3, "strlen patched in the three fixtures only");
	CHECK(hs.calls[0] == 3, "hook asked for the fixtures' slots only (%d)", hs.calls[0]);
	for (int i = 0; i < 3; i++) {
		strlen_fn f = (strlen_fn)sym(h[i], "caller_strlen");
		CHECK(f && f("abc") == 103, "%s: strlen replaced", libs[i]);
	}
	strlen_fn volatile own = strlen;
	CHECK((void *)own != (void *)fake_strlen && own("abc") == 3,
	      "this program (the shim's own module) is not patched");
	for (int i = 2; i >= 0; i--)
		dlclose(h[i]);

	/* libc imports these through its own GOT (self-bound or GLOB_DAT). */
	const struct interpose_target libc_imports[] = {
	    {"calloc", NULL, NULL}, {"realloc", NULL, NULL}, {"free", NULL, NULL}};
	hook_reset(NULL, NULL);
	hs.refuse = 1;
	CHECK(patch(libc_imports, 3) == 0 && hs.calls[0] + hs.calls[1] + hs.calls[2] == 0,
	      "libc's own GOT (DT_NEEDED closure) is never offered to the hook");
}

static void test_args_and_resolve(void)
{
	int np = 7;
	CHECK(interpose_patch_all(NULL, 1, hook, NULL, &np) == TXC_EINVAL, "NULL targets");
	CHECK(interpose_patch_all(t_add, 1, NULL, NULL, &np) == TXC_EINVAL, "NULL hook");
	CHECK(interpose_patch_all(t_add, 1, hook, NULL, NULL) == TXC_EINVAL, "NULL npatched");
	CHECK(interpose_patch_all(t_add, 0, hook, NULL, &np) == 0 && np == 0, "no targets");
	errno = 4321;
	CHECK(interpose_patch_all(t_add, 1, hook, NULL, &np) == 0 && errno == 4321,
	      "errno preserved");

	void *real = NULL;
	const struct interpose_target sl = {"strlen", NULL, NULL};
	CHECK(interpose_resolve(&sl, &real) == 0 && ((strlen_fn)real)("abcd") == 4,
	      "resolve strlen");
#if defined(__x86_64__)
	const struct interpose_target slv = {"strlen", "GLIBC_2.2.5", NULL};
	CHECK(interpose_resolve(&slv, &real) == 0 && real != NULL, "resolve strlen@GLIBC_2.2.5");
	const struct interpose_target bad = {"strlen", "GLIBC_9.99", NULL};
	CHECK(interpose_resolve(&bad, &real) == TXC_ENOTFOUND, "unknown version not found");
#endif
	const struct interpose_target lib[] = {{"probe_add", NULL, NULL},
					       {"probe_add", NULL, "libprobe_target"},
					       {"probe_add", NULL, "libprobe_target.so"},
					       {"probe_add", NULL, "libprobe"},
					       {"probe_add", NULL, "libc.so.6"}};
	void *h = open_fix("libprobe_caller.so", RTLD_LAZY | RTLD_LOCAL);
	void *add = genuine("probe_add", NULL);
	CHECK(add && interpose_library_ok(&lib[0], add) && interpose_library_ok(&lib[1], add) &&
		  interpose_library_ok(&lib[2], add),
	      "library_ok: unset, name without and with .so");
	CHECK(add && !interpose_library_ok(&lib[3], add) && !interpose_library_ok(&lib[4], add),
	      "library_ok: a prefix that is not a whole name part, another library");
	if (h)
		dlclose(h);
	const struct interpose_target none = {"txc_no_such_function", NULL, NULL};
	CHECK(interpose_resolve(&none, &real) == TXC_ENOTFOUND, "unknown name not found");
	CHECK(interpose_resolve(NULL, &real) == TXC_EINVAL, "resolve NULL target");
}

int main(void)
{
	find_fixtures();
	printf("# fixtures: %s\n", fixdir);
	test_lazy(0);
	test_lazy(1);
	test_now_and_twice();
	test_noplt_and_addr();
	test_refuse();
	test_version_and_library();
	test_closure_skipped();
	test_args_and_resolve();
	return check_done();
}
