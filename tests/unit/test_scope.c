/* test_scope.c - elfsym's one-module lookup and scope's search, checked
 * against the loader's own answers (dlvsym on a handle, dlsym) in this very
 * process: libm (two versions of exp) is opened RTLD_GLOBAL before the
 * first pass, and libc has IFUNCs. Then the whole check: the test runs
 * itself again under LD_BIND_NOW=1, where the loader has bound every PLT
 * slot of every module, and scope_lookup must give each slot's value.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The version module M imports symbol IDX at (DT_VERSYM, DT_VERNEED). */
static const char *import_version(const struct scope_mod *m, size_t idx)
{
	struct elfsym_mod em = {m->base, m->lo, m->hi, m->dyn};
	const ElfW(Half) *versym = NULL;
	const ElfW(Verneed) *vn = NULL;
	const char *strtab = NULL;
	for (const ElfW(Dyn) *d = m->dyn; d->d_tag != DT_NULL; d++) {
		uintptr_t a = elfsym_dyn_addr(&em, d->d_un.d_ptr);
		if (d->d_tag == DT_VERSYM)
			versym = (const void *)a;
		else if (d->d_tag == DT_VERNEED)
			vn = (const void *)a;
		else if (d->d_tag == DT_STRTAB)
			strtab = (const void *)a;
	}
	ElfW(Half) v = versym ? versym[idx] & 0x7fff : 0;
	for (; vn && v >= 2;
	     vn = vn->vn_next ? (const void *)((const char *)vn + vn->vn_next) : NULL) {
		const ElfW(Vernaux) *a = (const void *)((const char *)vn + vn->vn_aux);
		for (size_t j = 0; j < vn->vn_cnt; j++) {
			if (a->vna_other == v)
				return strtab + a->vna_name;
			a = (const void *)((const char *)a + a->vna_next);
		}
	}
	return NULL;
}

/* Every JUMP_SLOT of module I: the loader's value against scope_lookup's. */
static void compare_module(size_t i, int *same, int *differ)
{
	const struct scope_mod *m = &mods[i];
	struct elfsym_mod em = {m->base, m->lo, m->hi, m->dyn};
	uintptr_t jmprel = 0, symtab = 0, strtab = 0;
	size_t sz = 0;
	for (const ElfW(Dyn) *d = m->dyn; d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_JMPREL)
			jmprel = elfsym_dyn_addr(&em, d->d_un.d_ptr);
		else if (d->d_tag == DT_PLTRELSZ)
			sz = d->d_un.d_val;
		else if (d->d_tag == DT_SYMTAB)
			symtab = elfsym_dyn_addr(&em, d->d_un.d_ptr);
		else if (d->d_tag == DT_STRTAB)
			strtab = elfsym_dyn_addr(&em, d->d_un.d_ptr);
	}
	for (size_t off = 0; jmprel && symtab && off + sizeof(ElfW(Rela)) <= sz;
	     off += sizeof(ElfW(Rela))) {
		const ElfW(Rela) *r = (const void *)(jmprel + off);
		size_t idx = ELF64_R_SYM(r->r_info);
		const ElfW(Sym) *sym = (const ElfW(Sym) *)symtab + idx;
		if (ELF64_R_TYPE(r->r_info) != R_X86_64_JUMP_SLOT || !idx ||
		    sym->st_shndx != SHN_UNDEF)
			continue;
		const char *name = (const char *)strtab + sym->st_name;
		void *got = *(void **)(m->base + r->r_offset), *mine = NULL;
		int rc = scope_lookup(i, name, import_version(m, idx), &mine);
		/* a weak undefined import the loader left NULL: none found */
		if ((rc == 0 && mine == got) || (rc == TXC_ENOTFOUND && !got)) {
			(*same)++;
		} else {
			(*differ)++;
			printf("# %s in %s: loader %p, scope %p\n", name,
			       *m->name ? m->name : "(main)", got, mine);
		}
	}
}

/* Under LD_BIND_NOW=1: every bound PLT slot of every module, with two
 * libraries opened after the first pass (so through their records), one
 * RTLD_DEEPBIND. */
static void whole_process(void)
{
	int same = 0, differ = 0;
	const char *later[] = {"libsodium.so.23", "libffi.so.8"};
#ifdef __SANITIZE_ADDRESS__ /* the ASan runtime refuses RTLD_DEEPBIND */
	const int mode[] = {RTLD_LAZY | RTLD_LOCAL, RTLD_LAZY | RTLD_LOCAL};
#else
	const int mode[] = {RTLD_LAZY | RTLD_DEEPBIND, RTLD_LAZY | RTLD_LOCAL};
#endif
	for (int k = 0; k < 2; k++) {
		void *h = dlopen(later[k], mode[k]);
		if (h)
			scope_note_open(h, mode[k]);
		else
			printf("# %s: not loaded\n", later[k]);
	}
	nmods = 0;
	dl_iterate_phdr(collect, NULL);
	scope_begin(mods, nmods);
	for (size_t i = 0; i < nmods; i++)
		if (mods[i].dyn && !mods[i].vdso)
			compare_module(i, &same, &differ);
	CHECK(same > 300 && differ == 0, "%d PLT slots bound as the loader bound them, %d not",
	      same, differ);
}

/* Runs this test again under LD_BIND_NOW=1; its TAP lines are shown as
 * comments. Returns 1 when it passed. */
static int run_bound_child(char **argv)
{
	int fd[2], st = 0;
	char buf[4096];
	if (pipe(fd) != 0)
		return 0;
	setenv("LD_BIND_NOW", "1", 1);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	unsetenv("LD_BIND_NOW");
	close(fd[1]);
	FILE *in = fdopen(fd[0], "r");
	while (in && fgets(buf, sizeof(buf), in))
		printf("# bound: %s", buf);
	if (in)
		fclose(in);
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	if (!getenv("LD_BIND_NOW"))
		CHECK(run_bound_child(argv), "the LD_BIND_NOW=1 run passed");
	/* noted as the dlopen wrapper notes them: modules opened before the
	 * first pass are not in the start-up set (only what the loader mapped
	 * at start is) */
	void *libm = dlopen("libm.so.6", RTLD_NOW | RTLD_GLOBAL);
	CHECK(libm != NULL, "libm opened");
	if (libm)
		scope_note_open(libm, RTLD_NOW | RTLD_GLOBAL);
	/* large libraries with many imports, when installed (libmemcached's) */
	const char *more[] = {"libstdc++.so.6", "libcrypto.so.3", "libmemcached.so.11"};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		void *h = dlopen(more[i], RTLD_NOW | RTLD_GLOBAL);
		if (h)
			scope_note_open(h, RTLD_NOW | RTLD_GLOBAL);
		else
			printf("# %s: not loaded\n", more[i]);
	}
	dl_iterate_phdr(collect, NULL);
	one_module();
	search();
	if (getenv("LD_BIND_NOW"))
		whole_process();
	return check_done();
}
