/* interpose.c - GOT rewriting over every loaded module; see interpose.h.
 *
 * dl_iterate_phdr holds the loader's lock, so its callback only copies the
 * module list into a static array; dlsym, dlopen and dladdr run afterwards.
 * The array is static because interpose_patch_all is documented as not
 * reentrant and runs at load time, where malloc may be a configured function.
 *
 * Over 500 lines: the ELF walk, version matching and skip set are one
 * mechanism that must agree on the same module list (page protection is
 * pageprot.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "elf_arch.h"
#include "elfsym.h"
#include "err.h"
#include "interpose.h"
#include "log.h"
#include "needed.h"
#include "pageprot.h"
#include "scope.h"

#define MAX_MODS 1024

struct mod {
	uintptr_t base;	  /* l_addr: added to every vaddr of the module */
	uintptr_t lo, hi; /* span of its PT_LOAD segments */
	const char *name; /* l_name: "" for the main program */
	const ElfW(Phdr) * phdr;
	size_t phnum;
	const ElfW(Dyn) * dyn;
	const char *soname;
	bool skip, closure, expanded;
	bool unnamed; /* a name too long for names_arena: left out */
};

struct dyninfo {
	const ElfW(Sym) * symtab;
	const char *strtab;
	uintptr_t jmprel, rela, rel;
	size_t pltrelsz, relasz, relsz;
	bool plt_rela;
	const ElfW(Half) * versym;
	const ElfW(Verneed) * verneed;
	size_t verneednum;
	const char *soname;
};

struct walk {
	size_t n, dropped, names_used;
	const char *interp; /* PT_INTERP of the main program */
};

struct patcher {
	const struct interpose_target *targets;
	size_t n;
	interpose_hook_fn hook;
	void *ctx;
	interpose_seen_fn seen; /* NULL, or told of each slot written */
	void *seen_ctx;
	int npatched;
	size_t nmods;		    /* mods[0..nmods) is this pass's module list */
	uintptr_t exe_lo, exe_hi;   /* a non-PIE main program: canonical PLT addresses live there */
	uintptr_t self_lo, self_hi; /* the module holding this code */
	struct pageprot pp;
};

static struct mod mods[MAX_MODS];
static interpose_any_fn g_any;	    /* interpose_set_any's */
static char names_arena[64 * 1024]; /* copies of the modules' names */

/* Copies NAME into the arena at *USED. Returns the copy, or NULL. */
static const char *copy_name(const char *name, size_t *used)
{
	size_t len = strlen(name) + 1;
	if (len > sizeof(names_arena) - *used)
		return NULL;
	char *d = names_arena + *used;
	memcpy(d, name, len);
	*used += len;
	return d;
}

static int collect_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct walk *w = data;
	(void)size;
	if (w->n == MAX_MODS) {
		w->dropped++;
		return 0;
	}
	struct mod *m = &mods[w->n++];
	memset(m, 0, sizeof(*m));
	m->base = info->dlpi_addr;
	m->name = copy_name(info->dlpi_name ? info->dlpi_name : "", &w->names_used);
	if (!m->name) {
		m->name = "";
		m->unnamed = true;
	}
	m->phdr = info->dlpi_phdr;
	m->phnum = info->dlpi_phnum;
	m->lo = UINTPTR_MAX;
	for (size_t i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *ph = &m->phdr[i];
		uintptr_t start = m->base + ph->p_vaddr;
		if (ph->p_type == PT_LOAD) {
			if (start < m->lo)
				m->lo = start;
			if (start + ph->p_memsz > m->hi)
				m->hi = start + ph->p_memsz;
		} else if (ph->p_type == PT_DYNAMIC) {
			m->dyn = (const ElfW(Dyn) *)start;
		} else if (ph->p_type == PT_INTERP && !w->interp && !*m->name) {
			w->interp = (const char *)start;
		}
	}
	if (m->lo > m->hi)
		m->lo = m->hi = 0;
	return 0;
}

static bool in_mod(const struct mod *m, uintptr_t addr)
{
	return addr >= m->lo && addr < m->hi;
}

/* glibc relocates most d_ptr values of loaded modules in place, but not
 * DT_VERNEED, nor anything in a read-only dynamic section (the vDSO): an
 * address already inside the module is absolute, anything else an offset. */
static uintptr_t dyn_addr(const struct mod *m, ElfW(Addr) v)
{
	if (!v)
		return 0;
	return in_mod(m, v) ? v : m->base + v;
}

static void parse_dyn(const struct mod *m, struct dyninfo *di)
{
	ElfW(Addr) v[DT_NUM] = {0};
	ElfW(Addr) versym = 0, verneed = 0;
	memset(di, 0, sizeof(*di));
	for (const ElfW(Dyn) *d = m->dyn; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag > 0 && d->d_tag < DT_NUM)
			v[d->d_tag] = d->d_un.d_val;
		else if (d->d_tag == DT_VERSYM)
			versym = d->d_un.d_ptr;
		else if (d->d_tag == DT_VERNEED)
			verneed = d->d_un.d_ptr;
		else if (d->d_tag == DT_VERNEEDNUM)
			di->verneednum = d->d_un.d_val;
	}
	di->symtab = (const void *)dyn_addr(m, v[DT_SYMTAB]);
	di->strtab = (const void *)dyn_addr(m, v[DT_STRTAB]);
	di->jmprel = dyn_addr(m, v[DT_JMPREL]);
	di->pltrelsz = v[DT_PLTRELSZ];
	di->plt_rela = v[DT_PLTREL] == DT_RELA;
	di->rela = dyn_addr(m, v[DT_RELA]);
	di->relasz = v[DT_RELASZ];
	di->rel = dyn_addr(m, v[DT_REL]);
	di->relsz = v[DT_RELSZ];
	di->versym = (const void *)dyn_addr(m, versym);
	di->verneed = (const void *)dyn_addr(m, verneed);
	if (di->strtab && v[DT_SONAME])
		di->soname = di->strtab + v[DT_SONAME];
	/* Old linkers let DT_RELA's range end with the PLT relocations. */
	uintptr_t *other = di->plt_rela ? &di->rela : &di->rel;
	size_t *othersz = di->plt_rela ? &di->relasz : &di->relsz;
	if (*other && di->jmprel >= *other && di->jmprel + di->pltrelsz == *other + *othersz)
		*othersz -= di->pltrelsz;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static bool mod_is(const struct mod *m, const char *soname)
{
	if (m->soname && strcmp(m->soname, soname) == 0)
		return true;
	return *m->name && strcmp(base_name(m->name), soname) == 0;
}

/* Marks every loaded module named by a DT_NEEDED entry of M. */
static bool expand_needed(struct mod *m, size_t n)
{
	struct dyninfo di;
	bool changed = false;
	parse_dyn(m, &di);
	m->expanded = true;
	if (!di.strtab)
		return false;
	for (const ElfW(Dyn) *d = m->dyn; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag != DT_NEEDED)
			continue;
		const char *need = di.strtab + d->d_un.d_val;
		for (size_t j = 0; j < n; j++) {
			if (!mods[j].closure && mod_is(&mods[j], need)) {
				mods[j].closure = true;
				changed = true;
			}
		}
	}
	return changed;
}

static bool is_loader_or_vdso(const struct mod *m, const char *interp)
{
	uintptr_t ldso = getauxval(AT_BASE), vdso = getauxval(AT_SYSINFO_EHDR);
	const char *b = base_name(m->name);
	if ((ldso && in_mod(m, ldso)) || (vdso && in_mod(m, vdso)))
		return true;
	if (!*b)
		return false;
	if (strncmp(b, "ld-linux", 8) == 0 || strncmp(b, "linux-vdso", 10) == 0 ||
	    strncmp(b, "linux-gate", 10) == 0)
		return true;
	return interp && strcmp(b, base_name(interp)) == 0;
}

/* Base names of the libraries the shim loads later, with their DT_NEEDED
 * closure read from disk (needed.c): some (libstdc++, libgcc_s) may be
 * loaded for the host already, and must be skipped from the first pass. */
static char private_names[64][128];
static size_t nprivate;

static void add_private_name(const char *name, void *ctx)
{
	const char *b = base_name(name);
	(void)ctx;
	for (size_t k = 0; k < nprivate; k++)
		if (strcmp(private_names[k], b) == 0)
			return;
	if (nprivate < sizeof(private_names) / sizeof(private_names[0]) &&
	    strlen(b) < sizeof(private_names[0]))
		memcpy(private_names[nprivate++], b, strlen(b) + 1);
}

/* Names given to interpose_add_private whose closure is not read yet: the
 * files are read only when a pass meets a module that could be in it. */
static char pending_private[4][256];
static size_t npending;

void interpose_add_private(const char *name)
{
	if (!name || npending == sizeof(pending_private) / sizeof(pending_private[0]) ||
	    strlen(name) >= sizeof(pending_private[0]))
		return;
	memcpy(pending_private[npending++], name, strlen(name) + 1);
}

static void read_private(void)
{
	for (size_t i = 0; i < npending; i++) {
		if (needed_closure(pending_private[i], add_private_name, NULL) != 0)
			log_msg(TXC_LOG_DEBUG,
				"interpose: %s not found on disk; what it needs is "
				"skipped only once it is loaded",
				pending_private[i]);
	}
	npending = 0;
	for (size_t k = 0; k < nprivate; k++)
		log_msg(TXC_LOG_DEBUG, "interpose: never patched (loaded by the shim): %s",
			private_names[k]);
}

static bool is_private(const struct mod *m)
{
	for (size_t k = 0; k < nprivate; k++)
		if (mod_is(m, private_names[k]))
			return true;
	return false;
}

static void expand_closure(size_t n)
{
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (mods[i].closure && !mods[i].expanded && expand_needed(&mods[i], n))
				changed = true;
		}
	}
}

static bool has_candidate(size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!mods[i].skip && !mods[i].closure && *mods[i].name)
			return true;
	return false;
}

/* The shim, the loader, the vDSO, the shim's DT_NEEDED closure, and the
 * closure of the libraries the shim loads itself (libmemcached). */
static void mark_skipped(size_t n, const char *interp)
{
	uintptr_t self = (uintptr_t)&mark_skipped;
	for (size_t i = 0; i < n; i++) {
		struct mod *m = &mods[i];
		struct dyninfo di;
		parse_dyn(m, &di);
		m->soname = di.soname;
		m->closure = in_mod(m, self) || is_private(m);
		m->skip = m->closure || !m->dyn || is_loader_or_vdso(m, interp);
	}
	expand_closure(n);
	/* Reading the private closure from disk costs a dozen files: only when
	 * a library it could name is loaded and not already skipped (never
	 * for the main program: no library needs it). */
	if (npending && has_candidate(n)) {
		read_private();
		for (size_t i = 0; i < n; i++)
			mods[i].closure = mods[i].closure || is_private(&mods[i]);
		expand_closure(n);
	}
	for (size_t i = 0; i < n; i++)
		mods[i].skip = mods[i].skip || mods[i].closure;
}

/* The version M imports symbol IDX at, from DT_VERSYM and DT_VERNEED. */
static const char *import_version(const struct dyninfo *di, size_t idx)
{
	if (!di->versym || !di->verneed)
		return NULL;
	ElfW(Half) v = di->versym[idx] & 0x7fff;
	if (v < 2)
		return NULL;
	const ElfW(Verneed) *vn = di->verneed;
	for (size_t i = 0; i < di->verneednum; i++) {
		const ElfW(Vernaux) *a = (const void *)((const char *)vn + vn->vn_aux);
		for (size_t j = 0; j < vn->vn_cnt; j++) {
			if (a->vna_other == v)
				return di->strtab + a->vna_name;
			if (!a->vna_next)
				break;
			a = (const void *)((const char *)a + a->vna_next);
		}
		if (!vn->vn_next)
			break;
		vn = (const void *)((const char *)vn + vn->vn_next);
	}
	return NULL; /* a version the module defines itself */
}

int interpose_resolve(const struct interpose_target *target, void **real)
{
	if (!target || !target->name || !real)
		return TXC_EINVAL;
	int saved = errno;
	void *r;
	if (target->version && *target->version)
		r = dlvsym(RTLD_NEXT, target->name, target->version);
	else
		r = dlsym(RTLD_NEXT, target->name);
	errno = saved;
	if (!r)
		return TXC_ENOTFOUND;
	*real = r;
	return 0;
}

static bool in_range(uintptr_t lo, uintptr_t hi, uintptr_t v)
{
	return v >= lo && v < hi;
}

/* The definition the global scope after the shim gives NAME: RTLD_NEXT,
 * else RTLD_DEFAULT unless that is a non-PIE program's canonical PLT entry
 * or the shim. NULL: none. */
static void *global_def(const struct patcher *p, const char *name, const char *ver)
{
	struct interpose_target t = {name, ver, NULL};
	void *r = NULL;
	if (interpose_resolve(&t, &r) == 0)
		return r;
	r = ver ? dlvsym(RTLD_DEFAULT, name, ver) : dlsym(RTLD_DEFAULT, name);
	if (in_range(p->exe_lo, p->exe_hi, (uintptr_t)r) ||
	    in_range(p->self_lo, p->self_hi, (uintptr_t)r))
		return NULL;
	return r;
}

/* The definition M's own dependencies give NAME (a handle on M searches
 * M and its DT_NEEDED). NULL: none. */
static void *local_def(const struct mod *m, const char *name, const char *ver)
{
	void *r = NULL;
	void *h = *m->name ? dlopen(m->name, RTLD_LAZY | RTLD_NOLOAD) : NULL;
	if (h) {
		r = ver ? dlvsym(h, name, ver) : dlsym(h, name);
		dlclose(h);
	}
	return r;
}

/* A lazy slot still leads to the PLT: find what the loader would bind
 * it to, searching M's own scope (scope.h). Where that scope is not known
 * (a module loaded by a dlopen the shim did not see), the global scope and
 * M's own dependencies are asked: when only one defines NAME, or both give
 * the same definition, the order of the two (RTLD_DEEPBIND or not) does not
 * matter. When they differ the shim cannot know which the loader takes:
 * TXC_EUNAVAIL, the slot is left to the loader; once a call has bound it,
 * a later pass finds it resolved and patches it. */
static int resolve_for(const struct patcher *p, const struct mod *m, const char *name,
		       const char *ver, void **real)
{
	int rc = scope_lookup((size_t)(m - mods), name, ver, real);
	if (rc == 0 || rc == TXC_EUNAVAIL)
		return rc; /* found, or left for a later pass */
	void *g = global_def(p, name, ver), *l = local_def(m, name, ver);
	if (g && l && g != l)
		return TXC_EUNAVAIL;
	*real = g ? g : l;
	return *real ? 0 : TXC_ENOTFOUND;
}

/* A slot leading into its own module is an unresolved lazy PLT stub; one
 * leading into a non-PIE program is that program's canonical PLT entry,
 * which jumps through the program's own (patched) slot: calling either as
 * REAL would re-bind over the patch or recurse into the replacement. */
static int slot_real(const struct patcher *p, const struct mod *m, const ElfW(Sym) * sym,
		     const char *name, const char *ver, void *cur, void **real)
{
	uintptr_t v = (uintptr_t)cur;
	bool in_self = in_mod(m, v);
	bool in_exe = in_range(p->exe_lo, p->exe_hi, v);
	if (v && !in_self && !in_exe) {
		*real = cur;
		return 0;
	}
	/* Bound to the module's own definition (an interposable self-call). */
	if (v && in_self && sym->st_shndx != SHN_UNDEF && v == m->base + sym->st_value) {
		*real = cur;
		return 0;
	}
	return resolve_for(p, m, name, ver, real);
}

/* Matches a module name against "libfoo.so.1", or a prefix of it ending
 * before a dot ("libfoo", "libfoo.so"). */
static bool library_matches(const char *want, const char *path)
{
	const char *b = base_name(path);
	size_t n = strlen(want);
	return strncmp(b, want, n) == 0 && (b[n] == '\0' || b[n] == '.');
}

int interpose_library_ok(const struct interpose_target *t, void *real)
{
	Dl_info info;
	if (!t->library || !*t->library)
		return 1;
	return dladdr(real, &info) && info.dli_fname && library_matches(t->library, info.dli_fname);
}

static bool target_matches(const struct interpose_target *t, const char *name, const char *ver)
{
	if (strcmp(t->name, name) != 0)
		return false;
	return !t->version || !*t->version || (ver && strcmp(ver, t->version) == 0);
}

/* Writes VAL into SLOT of M (pageprot.h). */
static int write_slot(struct patcher *p, const struct mod *m, uintptr_t slot, void *val,
		      void *expect)
{
	const struct pageprot_mod pm = {m->base, m->phdr, m->phnum, *m->name ? m->name : "(main)"};
	return pageprot_write(&p->pp, &pm, slot, val, expect);
}

/* What a relocation fills: a call's PLT slot, a GOT slot read by -fno-plt
 * calls and by code taking &f, or a word of data (a static table). */
enum slot_kind { SLOT_NONE, SLOT_CALL, SLOT_ADDR, SLOT_DATA };

static enum slot_kind slot_kind_of(unsigned long type)
{
	if (type == TXC_R_JUMP_SLOT)
		return SLOT_CALL;
	if (type == TXC_R_GLOB_DAT) /* first: RISC-V's GOT slots are its data words */
		return SLOT_ADDR;
	return type == TXC_R_ABS ? SLOT_DATA : SLOT_NONE;
}

/* A non-PIE program's canonical PLT entry: the address every module's &f
 * gives there (the program's own symbol, undefined, with a value). It jumps
 * through the program's JUMP_SLOT, which is patched: a slot holding it is
 * cached already, and must keep it so that pointers compare as before. */
static bool is_canonical_plt(const struct patcher *p, void *cur)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	if (!in_range(p->exe_lo, p->exe_hi, (uintptr_t)cur))
		return false;
	if (!dladdr1(cur, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return false;
	return sym->st_shndx == SHN_UNDEF && info.dli_saddr == cur;
}

/* A data word is the program's own: it may have been rewritten since the
 * loader filled it. Only one that still holds a definition of NAME (or what
 * NAME resolves to: an IFUNC's implementation) is taken for one. */
static bool data_holds_def(const struct interpose_target *t, const char *name, void *cur)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	void *r = NULL;
	if (dladdr1(cur, &info, (void **)&sym, RTLD_DL_SYMENT) && sym && info.dli_saddr == cur &&
	    sym->st_shndx != SHN_UNDEF && info.dli_sname && strcmp(info.dli_sname, name) == 0)
		return true;
	return interpose_resolve(t, &r) == 0 && r == cur;
}

/* The definition SLOT leads to, in *REAL; CUR is the slot's word less
 * its addend. Returns 0, or 1 to leave it. */
static int slot_target(struct patcher *p, const struct mod *m, const struct dyninfo *di, size_t idx,
		       const struct interpose_target *t, const char *ver, enum slot_kind kind,
		       void *cur, void **real)
{
	const ElfW(Sym) *sym = &di->symtab[idx];
	const char *name = di->strtab + sym->st_name;
	if (kind == SLOT_DATA) {
		*real = cur;
		return cur && data_holds_def(t, name, cur) ? 0 : 1;
	}
	const char *want = t->version && *t->version ? t->version : ver;
	if (slot_real(p, m, sym, name, want, cur, real) != 0) {
		log_msg(TXC_LOG_DEBUG, "interpose: %s in %s: no definition found", name,
			*m->name ? m->name : "(main)");
		return 1;
	}
	return 0;
}

/* Where a relocation's word is: usually in the module whose relocation it
 * is; for a program's copy of a library's object, in the program. A data
 * word holds definition + ADDEND (an R_*_64 with an addend: `(char *)f + 4`);
 * it is rewritten to closure + ADDEND, so that it compares as before (such
 * a pointer was never callable as it is, with the shim or without). */
struct slot_at {
	const struct mod *owner;
	uintptr_t slot;
	uintptr_t addend;
};

void interpose_set_any(interpose_any_fn fn)
{
	g_any = fn;
}

interpose_any_fn interpose_get_any(void)
{
	return g_any;
}

/* A call slot no target names, in profile mode: g_any's address. */
static void patch_any(struct patcher *p, const struct mod *m, const struct dyninfo *di,
		      const struct slot_at *at, size_t idx, void *cur)
{
	const char *name = di->strtab + di->symtab[idx].st_name;
	const char *ver = import_version(di, idx);
	const struct interpose_target t = {name, ver, NULL};
	void *real = NULL;
	if (slot_target(p, m, di, idx, &t, ver, SLOT_CALL, cur, &real) != 0)
		return;
	void *val = g_any(name, real, 0);
	if (val && val != cur && write_slot(p, at->owner, at->slot, val, NULL) == 0)
		log_msg(TXC_LOG_DEBUG, "interpose: timing %s in %s", name,
			*at->owner->name ? at->owner->name : "(main)");
}

static void patch_slot(struct patcher *p, const struct mod *m, const struct dyninfo *di,
		       const struct slot_at *at, size_t idx, enum slot_kind kind)
{
	const ElfW(Sym) *sym = &di->symtab[idx];
	const char *name = di->strtab + sym->st_name;
	const char *ver = NULL;
	bool ver_known = false, have_real = false;
	void *real = NULL;
	uintptr_t add = kind == SLOT_DATA ? at->addend : 0;
	void *word = __atomic_load_n((void **)at->slot, __ATOMIC_ACQUIRE);
	void *cur = (void *)((uintptr_t)word - add);

	for (size_t fn = 0; fn < p->n; fn++) {
		const struct interpose_target *t = &p->targets[fn];
		if (!t->name || t->name[0] != name[0])
			continue;
		if (!ver_known) {
			ver = import_version(di, idx);
			ver_known = true;
		}
		if (!target_matches(t, name, ver))
			continue;
		if (kind != SLOT_CALL && is_canonical_plt(p, cur))
			return;
		if (!have_real && slot_target(p, m, di, idx, t, ver, kind, cur, &real) != 0)
			return;
		have_real = true;
		if (!interpose_library_ok(t, real))
			continue;
		void *val = p->hook(p->ctx, (int)fn, real);
		void *expect = kind == SLOT_DATA ? word : NULL;
		if (!val || val == cur)
			return;
		val = (void *)((uintptr_t)val + add);
		if (write_slot(p, at->owner, at->slot, val, expect) == 0) {
			p->npatched++;
			if (p->seen)
				p->seen(p->seen_ctx, at->owner->name, (int)fn);
			log_msg(TXC_LOG_DEBUG, "interpose: patched %s in %s%s", name,
				*at->owner->name ? at->owner->name : "(main)",
				at->owner != m	    ? " (copy)"
				: kind == SLOT_DATA ? " (data)"
						    : "");
		}
		return;
	}
	if (kind == SLOT_CALL && g_any)
		patch_any(p, m, di, at, idx, cur);
}

/* Calls FN for each relocation with a symbol in M's table at TABLE (SIZE
 * bytes), with its addend (0 in a Rel table, whose words hold theirs). */
typedef void reloc_fn(struct patcher *p, const struct mod *m, const struct dyninfo *di,
		      const ElfW(Rel) * r, uintptr_t addend, void *ctx);

static void each_reloc(struct patcher *p, const struct mod *m, const struct dyninfo *di,
		       uintptr_t table, size_t size, bool rela, reloc_fn *fn, void *ctx)
{
	size_t ent = rela ? sizeof(ElfW(Rela)) : sizeof(ElfW(Rel));
	if (!table)
		return;
	for (size_t off = 0; off + ent <= size; off += ent) {
		/* Rel and Rela share their first two fields. */
		const ElfW(Rel) *r = (const ElfW(Rel) *)(table + off);
		uintptr_t addend = rela ? (uintptr_t)((const ElfW(Rela) *)r)->r_addend : 0;
		if (TXC_R_SYM(r->r_info))
			fn(p, m, di, r, addend, ctx);
	}
}

/* A program's copy of a library object: [lo, hi) of the library, at DST. */
struct copy_obj {
	const struct mod *prog;
	uintptr_t lo, hi, dst;
};

/* A data word of the library inside the copied object: the copy holds what
 * the loader filled it with, at the same offset. */
static void patch_copied_word(struct patcher *p, const struct mod *lib, const struct dyninfo *di,
			      const ElfW(Rel) * r, uintptr_t addend, void *ctx)
{
	const struct copy_obj *c = ctx;
	/* TXC_R_ABS, not slot_kind_of: RISC-V's data words share GLOB_DAT's number. */
	if (TXC_R_TYPE(r->r_info) != TXC_R_ABS || r->r_offset < c->lo ||
	    r->r_offset + sizeof(void *) > c->hi || (r->r_offset - c->lo) % sizeof(void *) != 0)
		return;
	uintptr_t slot = c->dst + (r->r_offset - c->lo);
	if (slot % sizeof(void *) != 0)
		return;
	struct slot_at at = {c->prog, slot, addend};
	patch_slot(p, lib, di, &at, TXC_R_SYM(r->r_info), SLOT_DATA);
}

/* PROG's copy relocation R of an object: the loader copied it from the
 * first module after the program defining it (the global scope at start);
 * the words that module's relocations filled name configured functions. */
static void patch_copy(struct patcher *p, const struct mod *prog, const struct dyninfo *di,
		       const ElfW(Rel) * r)
{
	size_t idx = TXC_R_SYM(r->r_info);
	const ElfW(Sym) *psym = &di->symtab[idx];
	const char *name = di->strtab + psym->st_name;
	const char *ver = import_version(di, idx);
	for (size_t j = 0; j < p->nmods; j++) {
		const struct mod *lib = &mods[j];
		if (lib == prog || !lib->dyn)
			continue;
		struct elfsym_mod em = {lib->base, lib->lo, lib->hi, lib->dyn};
		const ElfW(Sym) *sym = elfsym_find(&em, name, ver);
		if (!sym)
			continue;
		if (lib->skip)
			return; /* its own words are never patched either */
		size_t size = sym->st_size < psym->st_size ? sym->st_size : psym->st_size;
		struct copy_obj c = {prog, sym->st_value, sym->st_value + size,
				     prog->base + r->r_offset};
		struct dyninfo ldi;
		parse_dyn(lib, &ldi);
		if (!ldi.symtab || !ldi.strtab)
			return;
		each_reloc(p, lib, &ldi, ldi.rela, ldi.relasz, true, patch_copied_word, &c);
		each_reloc(p, lib, &ldi, ldi.rel, ldi.relsz, false, patch_copied_word, &c);
		return;
	}
}

static void patch_reloc(struct patcher *p, const struct mod *m, const struct dyninfo *di,
			const ElfW(Rel) * r, uintptr_t addend, void *ctx)
{
	unsigned long type = TXC_R_TYPE(r->r_info);
	enum slot_kind kind = slot_kind_of(type);
	(void)ctx;
	if (type == TXC_R_COPY) {
		patch_copy(p, m, di, r);
	} else if (kind != SLOT_NONE && r->r_offset % sizeof(void *) == 0) {
		struct slot_at at = {m, m->base + r->r_offset, addend};
		patch_slot(p, m, di, &at, TXC_R_SYM(r->r_info), kind);
	}
}

static void patch_module(struct patcher *p, const struct mod *m)
{
	struct dyninfo di;
	parse_dyn(m, &di);
	if (!di.symtab || !di.strtab)
		return;
	each_reloc(p, m, &di, di.jmprel, di.pltrelsz, di.plt_rela, patch_reloc, NULL);
	each_reloc(p, m, &di, di.rela, di.relasz, true, patch_reloc, NULL);
	each_reloc(p, m, &di, di.rel, di.relsz, false, patch_reloc, NULL);
}

/* Another thread may dlclose a module between the walk and its patching,
 * freeing its name and unmapping what M points to: the walk copies names
 * (under the loader's lock), then each module is held by a reference for
 * the pass. A module gone meanwhile, or whose name did not fit, is left
 * out (its memory is never read). */
static void *pins[MAX_MODS];

static void pin_all(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mod *m = &mods[i];
		struct link_map *lm = NULL;
		pins[i] = NULL;
		if (!*m->name && !m->unnamed)
			continue; /* the program, the vDSO: never unloaded */
		void *h = m->unnamed ? NULL : dlopen(m->name, RTLD_LAZY | RTLD_NOLOAD);
		if (!h)
			(void)dlerror();
		pins[i] = h;
		if (!h || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm || lm->l_addr != m->base) {
			m->dyn = NULL;
			m->phdr = NULL;
			m->phnum = 0;
		}
	}
}

/* Hands the pass's module list to scope.c for lazy slots' lookups. */
static void begin_scope(size_t n)
{
	static struct scope_mod smods[MAX_MODS];
	uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
	for (size_t i = 0; i < n; i++) {
		const struct mod *m = &mods[i];
		smods[i] = (struct scope_mod){m->base, m->lo,  m->hi,
					      m->name, m->dyn, vdso && in_mod(m, vdso)};
	}
	scope_begin(smods, n);
}

static void unpin_all(size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pins[i])
			dlclose(pins[i]);
}

int interpose_patch_all(const struct interpose_target *targets, size_t n, interpose_hook_fn hook,
			void *ctx, int *npatched)
{
	return interpose_patch_seen(targets, n, hook, ctx, NULL, NULL, npatched);
}

int interpose_patch_seen(const struct interpose_target *targets, size_t n, interpose_hook_fn hook,
			 void *ctx, interpose_seen_fn seen, void *seen_ctx, int *npatched)
{
	if (!npatched || !hook || (n && !targets))
		return TXC_EINVAL;
	*npatched = 0;
	if (n == 0)
		return 0;
	int saved = errno;
	struct walk w = {0};
	dl_iterate_phdr(collect_cb, &w);
	pin_all(w.n);
	if (w.dropped)
		log_msg(TXC_LOG_WARN, "interpose: %zu modules beyond %d not patched", w.dropped,
			MAX_MODS);
	mark_skipped(w.n, w.interp);
	begin_scope(w.n);

	struct patcher p = {.targets = targets,
			    .n = n,
			    .hook = hook,
			    .ctx = ctx,
			    .seen = seen,
			    .seen_ctx = seen_ctx,
			    .nmods = w.n};
	pageprot_init(&p.pp);
	for (size_t i = 0; i < w.n; i++) {
		if (!*mods[i].name && mods[i].base == 0) {
			p.exe_lo = mods[i].lo;
			p.exe_hi = mods[i].hi;
		}
		if (in_mod(&mods[i], (uintptr_t)&mark_skipped)) {
			p.self_lo = mods[i].lo;
			p.self_hi = mods[i].hi;
		}
	}
	for (size_t i = 0; i < w.n; i++) {
		if (!mods[i].skip)
			patch_module(&p, &mods[i]);
	}
	unpin_all(w.n);
	*npatched = p.npatched;
	errno = saved;
	return 0;
}
