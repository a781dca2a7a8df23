/* test_scope.c - elfsym's one-module lookup and scope's search, checked
 * against the loader's own answers (dlvsym on a handle, dlsym) in this very
 * process: libm (two versions of exp) is opened RTLD_GLOBAL before the
 * first pass, and libc has IFUNCs.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "check.h"
#include "elfsym.h"
#include "err.h"
#include "scope.h"

#define MAX 256

static struct scope_mod mods[MAX];
static size_t nmods;

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	if (nmods == MAX)
		return 1;
	struct scope_mod *m = &mods[nmods++];
	memset(m, 0, sizeof(*m));
	m->base = info->dlpi_addr;
	m->name = info->dlpi_name ? info->dlpi_name : "";
	m->lo = UINTPTR_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = m->base + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && start < m->lo)
			m->lo = start;
		if (ph->p_type == PT_LOAD && start + ph->p_memsz > m->hi)
			m->hi = start + ph->p_memsz;
		if (ph->p_type == PT_DYNAMIC)
			m->dyn = (const void *)start;
	}
	m->vdso = strncmp(m->name, "linux-vdso", 10) == 0;
	return 0;
}

static const struct scope_mod *find(const char *base)
{
	for (size_t i = 0; i < nmods; i++) {
		const char *s = strrchr(mods[i].name, '/');
		if (strcmp(s ? s + 1 : mods[i].name, base) == 0)
			return &mods[i];
	}
	return NULL;
}

static void *in_mod(const struct scope_mod *m, const char *name, const char *ver)
{
	struct elfsym_mod em = {m->base, m->lo, m->hi, m->dyn};
	const ElfW(Sym) *s = elfsym_find(&em, name, ver);
	return s ? (void *)(m->base + s->st_value) : NULL;
}

static void one_module(void)
{
	const struct scope_mod *libm = find("libm.so.6");
	void *h = dlopen("libm.so.6", RTLD_NOW | RTLD_NOLOAD);
	CHECK(libm && h, "libm is loaded");
	if (!libm || !h)
		return;
	void *new = dlvsym(h, "exp", "GLIBC_2.29"), *old = dlvsym(h, "exp", "GLIBC_2.2.5");
	CHECK(new &&old &&new != old, "libm has two exp");
	CHECK(in_mod(libm, "exp", "GLIBC_2.29") == new, "exp@GLIBC_2.29");
	CHECK(in_mod(libm, "exp", "GLIBC_2.2.5") == old, "exp@GLIBC_2.2.5");
	/* an unversioned import binds to the oldest version, as the loader does */
	CHECK(in_mod(libm, "exp", NULL) == old, "unversioned exp: the oldest");
	CHECK(in_mod(libm, "exp", "GLIBC_9.9") == NULL, "a version libm lacks");
	CHECK(in_mod(libm, "no_such_function_here", NULL) == NULL, "unknown name");
	CHECK(in_mod(libm, "strlen", NULL) == NULL, "an import is no definition");
	dlclose(h);
}

static void search(void)
{
	void *r = NULL;
	size_t main_idx = 0; /* dl_iterate_phdr lists the program first */
	scope_begin(mods, nmods);
	CHECK(scope_lookup(main_idx, "exp", "GLIBC_2.29", &r) == 0 &&
		  r == dlvsym(RTLD_DEFAULT, "exp", "GLIBC_2.29"),
	      "the program's exp@GLIBC_2.29: libm's");
	CHECK(scope_lookup(main_idx, "strlen", "GLIBC_2.2.5", &r) == 0 &&
		  r == dlsym(RTLD_DEFAULT, "strlen"),
	      "strlen, an IFUNC: the implementation the loader selects");
	CHECK(scope_lookup(main_idx, "no_such_function_here", NULL, &r) == TXC_ENOTFOUND,
	      "nothing defines it");
	CHECK(scope_lookup(nmods + 5, "exp", NULL, &r) == TXC_ENOTFOUND, "no such module");
}

int main(void)
{
	void *libm = dlopen("libm.so.6", RTLD_NOW | RTLD_GLOBAL);
	CHECK(libm != NULL, "libm opened");
	dl_iterate_phdr(collect, NULL);
	one_module();
	search();
	return check_done();
}
