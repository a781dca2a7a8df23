/* elfsym.c - one module's definition of a symbol; see elfsym.h.
 *
 * Reads only the module's mapped dynamic tables: no malloc, no locks, so it
 * is safe inside a patch pass while the module is pinned.
 */
#include <elf.h>
#include <stdbool.h>
#include <string.h>

#include "elfsym.h"

struct symtabs {
	const ElfW(Sym) * symtab;
	const char *strtab;
	const uint32_t *gnu_hash, *hash;
	const ElfW(Half) * versym;
	const ElfW(Verdef) * verdef;
};

/* What check_match tracks across one module's candidates. */
struct matchstate {
	const char *ver;
	const ElfW(Sym) * versioned; /* the one non-hidden versioned candidate */
	int nversioned;
};

uintptr_t elfsym_dyn_addr(const struct elfsym_mod *m, ElfW(Addr) v)
{
	if (!v)
		return 0;
	return v >= m->lo && v < m->hi ? v : m->base + v;
}

static void read_tabs(const struct elfsym_mod *m, struct symtabs *t)
{
	memset(t, 0, sizeof(*t));
	for (const ElfW(Dyn) *d = m->dyn; d && d->d_tag != DT_NULL; d++) {
		uintptr_t a = elfsym_dyn_addr(m, d->d_un.d_ptr);
		switch (d->d_tag) {
		case DT_SYMTAB:
			t->symtab = (const void *)a;
			break;
		case DT_STRTAB:
			t->strtab = (const void *)a;
			break;
		case DT_GNU_HASH:
			t->gnu_hash = (const void *)a;
			break;
		case DT_HASH:
			t->hash = (const void *)a;
			break;
		case DT_VERSYM:
			t->versym = (const void *)a;
			break;
		case DT_VERDEF:
			t->verdef = (const void *)a;
			break;
		default:
			break;
		}
	}
}

/* The name of version index NDX among the module's own definitions, or
 * NULL for the base entries (0, 1, VER_FLG_BASE), which name no version. */
static const char *verdef_name(const struct symtabs *t, ElfW(Half) ndx)
{
	const ElfW(Verdef) *vd = t->verdef;
	while (vd) {
		if ((vd->vd_ndx & 0x7fff) == ndx) {
			if (vd->vd_flags & VER_FLG_BASE)
				return NULL;
			const ElfW(Verdaux) *a = (const void *)((const char *)vd + vd->vd_aux);
			return t->strtab + a->vda_name;
		}
		vd = vd->vd_next ? (const void *)((const char *)vd + vd->vd_next) : NULL;
	}
	return NULL;
}

/* check_match for symbol index I: true when it is the definition to take.
 * May remember a versioned candidate for an unversioned import in S. */
static bool check(const struct symtabs *t, size_t i, const char *name, struct matchstate *s)
{
	const ElfW(Sym) *sym = &t->symtab[i];
	unsigned stt = TXC_ST_TYPE(sym->st_info);
	if (sym->st_shndx == SHN_UNDEF || (sym->st_value == 0 && sym->st_shndx != SHN_ABS))
		return false;
	if (stt != STT_FUNC && stt != STT_GNU_IFUNC && stt != STT_OBJECT && stt != STT_NOTYPE)
		return false;
	if (strcmp(t->strtab + sym->st_name, name) != 0)
		return false;
	if (!t->versym)
		return true; /* an unversioned module satisfies any version */
	ElfW(Half) raw = t->versym[i], ndx = raw & 0x7fff;
	if (s->ver) {
		const char *have = verdef_name(t, ndx);
		if (have)
			return strcmp(have, s->ver) == 0;
		return !(raw & 0x8000); /* a base (unversioned) definition */
	}
	if (ndx < 3)
		return true; /* unversioned, or the module's oldest version */
	if (!(raw & 0x8000) && s->nversioned++ == 0)
		s->versioned = sym;
	return false;
}

static uint32_t gnu_hash_of(const char *s)
{
	uint32_t h = 5381;
	for (const unsigned char *p = (const void *)s; *p; p++)
		h = h * 33 + *p;
	return h;
}

static uint32_t sysv_hash_of(const char *s)
{
	uint32_t h = 0, g;
	for (const unsigned char *p = (const void *)s; *p; p++) {
		h = (h << 4) + *p;
		g = h & 0xf0000000u;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

static const ElfW(Sym) * find_gnu(const struct symtabs *t, const char *name, struct matchstate *s)
{
	const uint32_t *h = t->gnu_hash;
	uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
	if (!nbuckets)
		return NULL;
	const uint32_t *buckets = (const void *)((const ElfW(Addr) *)(h + 4) + bloom_size);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t hash = gnu_hash_of(name);
	uint32_t i = buckets[hash % nbuckets];
	if (i < symoffset)
		return NULL;
	for (;; i++) {
		uint32_t c = chain[i - symoffset];
		if ((c | 1) == (hash | 1) && check(t, i, name, s))
			return &t->symtab[i];
		if (c & 1)
			return NULL;
	}
}

static const ElfW(Sym) * find_sysv(const struct symtabs *t, const char *name, struct matchstate *s)
{
	uint32_t nbucket = t->hash[0];
	if (!nbucket)
		return NULL;
	const uint32_t *bucket = t->hash + 2, *chain = bucket + nbucket;
	for (uint32_t i = bucket[sysv_hash_of(name) % nbucket]; i; i = chain[i])
		if (check(t, i, name, s))
			return &t->symtab[i];
	return NULL;
}

const ElfW(Sym) * elfsym_find(const struct elfsym_mod *m, const char *name, const char *ver)
{
	struct symtabs t;
	struct matchstate s = {.ver = ver};
	read_tabs(m, &t);
	if (!t.symtab || !t.strtab || !name)
		return NULL;
	const ElfW(Sym) *sym = NULL;
	if (t.gnu_hash)
		sym = find_gnu(&t, name, &s);
	else if (t.hash)
		sym = find_sysv(&t, name, &s);
	if (!sym && s.nversioned == 1)
		sym = s.versioned;
	/* Local symbols are ignored: the search goes on in the next module. */
	if (sym && TXC_ST_BIND(sym->st_info) == STB_LOCAL)
		return NULL;
	return sym;
}
