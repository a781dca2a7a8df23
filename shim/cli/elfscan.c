/* elfscan.c - the dynamic symbols of an ELF file on disk; see elfscan.h.
 *
 * Section headers, not the dynamic segment: a file on disk has no load
 * address, and every Debian binary keeps its section headers. Every offset
 * read from the file is checked against its size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_arch.h"
#include "elfscan.h"
#include "err.h"
#include "ident.h"

struct elfscan {
	const unsigned char *map;
	size_t size;
	const ElfW(Sym) * sym;
	size_t nsym;
	const char *str; /* the strings of .dynsym */
	size_t strsz;
	const ElfW(Half) * versym; /* NULL: no versions */
	const ElfW(Shdr) * verneed, *verdef;
	const ElfW(Shdr) * shdr;
	size_t shnum, dynsym_idx;
	bool dynamic;
	const char *interp;
};

/* The file's bytes [OFF, OFF+LEN), or NULL when outside the file. */
static const void *at(const struct elfscan *e, uint64_t off, uint64_t len)
{
	if (off > e->size || len > e->size - off)
		return NULL;
	return e->map + off;
}

static const char *str_at(const struct elfscan *e, uint64_t idx)
{
	if (idx >= e->strsz || !memchr(e->str + idx, '\0', e->strsz - idx))
		return "";
	return e->str + idx;
}

static void load_sections(struct elfscan *e, const ElfW(Ehdr) * eh)
{
	e->shdr = at(e, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(ElfW(Shdr)));
	e->shnum = e->shdr ? eh->e_shnum : 0;
	for (size_t i = 0; i < e->shnum; i++) {
		const ElfW(Shdr) *sh = &e->shdr[i];
		if (sh->sh_type == SHT_DYNSYM && sh->sh_link < e->shnum) {
			const ElfW(Shdr) *ss = &e->shdr[sh->sh_link];
			e->sym = at(e, sh->sh_offset, sh->sh_size);
			e->nsym = e->sym ? sh->sh_size / sizeof(ElfW(Sym)) : 0;
			e->str = at(e, ss->sh_offset, ss->sh_size);
			e->strsz = e->str ? ss->sh_size : 0;
			e->dynsym_idx = i;
		} else if (sh->sh_type == SHT_DYNAMIC) {
			e->dynamic = true;
		} else if (sh->sh_type == SHT_GNU_versym) {
			e->versym = at(e, sh->sh_offset, sh->sh_size);
		} else if (sh->sh_type == SHT_GNU_verneed) {
			e->verneed = sh;
		} else if (sh->sh_type == SHT_GNU_verdef) {
			e->verdef = sh;
		}
	}
	if (!e->str)
		e->nsym = 0;
	const ElfW(Phdr) *ph = at(e, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(ElfW(Phdr)));
	for (size_t i = 0; ph && i < eh->e_phnum; i++) {
		const char *s = at(e, ph[i].p_offset, ph[i].p_filesz);
		if (ph[i].p_type == PT_DYNAMIC)
			e->dynamic = true;
		else if (ph[i].p_type == PT_INTERP && s && ph[i].p_filesz &&
			 s[ph[i].p_filesz - 1] == '\0')
			e->interp = s;
	}
}

int elfscan_open(const char *path, struct elfscan **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return TXC_ESYS;
	struct stat st;
	void *map = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(ElfW(Ehdr)))
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int saved = errno;
	close(fd);
	if (map == MAP_FAILED) {
		errno = st.st_size < (off_t)sizeof(ElfW(Ehdr)) ? ENOEXEC : saved;
		return errno == ENOEXEC ? TXC_EINVAL : TXC_ESYS;
	}
	const ElfW(Ehdr) *eh = map;
	struct elfscan *e = calloc(1, sizeof(*e));
	if (!e || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != (__ELF_NATIVE_CLASS == 64 ? ELFCLASS64 : ELFCLASS32) ||
	    eh->e_machine != TXC_EM_NATIVE) {
		free(e);
		munmap(map, (size_t)st.st_size);
		return e ? TXC_EINVAL : TXC_ENOMEM;
	}
	e->map = map;
	e->size = (size_t)st.st_size;
	load_sections(e, eh);
	*out = e;
	return 0;
}

void elfscan_close(struct elfscan *e)
{
	if (!e)
		return;
	munmap((void *)e->map, e->size);
	free(e);
}

bool elfscan_is_dynamic(const struct elfscan *e)
{
	return e->dynamic;
}

const char *elfscan_interp(const struct elfscan *e)
{
	return e->interp;
}

/* The version an undefined symbol asks for (DT_VERNEED entries). */
static const char *needed_version(const struct elfscan *e, unsigned v)
{
	const ElfW(Shdr) *sh = e->verneed;
	uint64_t off = sh ? sh->sh_offset : 0, end = sh ? sh->sh_offset + sh->sh_size : 0;
	for (size_t i = 0; sh && i < sh->sh_info; i++) {
		const ElfW(Verneed) *vn = at(e, off, sizeof(*vn));
		if (!vn || off >= end)
			break;
		uint64_t aoff = off + vn->vn_aux;
		for (size_t j = 0; j < vn->vn_cnt; j++) {
			const ElfW(Vernaux) *a = at(e, aoff, sizeof(*a));
			if (!a)
				break;
			if (a->vna_other == v)
				return str_at(e, a->vna_name);
			aoff += a->vna_next;
		}
		off += vn->vn_next;
		if (!vn->vn_next)
			break;
	}
	return "";
}

/* The version a definition carries (DT_VERDEF entries). */
static const char *defined_version(const struct elfscan *e, unsigned v)
{
	const ElfW(Shdr) *sh = e->verdef;
	uint64_t off = sh ? sh->sh_offset : 0;
	for (size_t i = 0; sh && i < sh->sh_info; i++) {
		const ElfW(Verdef) *vd = at(e, off, sizeof(*vd));
		if (!vd)
			break;
		const ElfW(Verdaux) *a = at(e, off + vd->vd_aux, sizeof(*a));
		if (vd->vd_ndx == v && a)
			return str_at(e, a->vda_name);
		off += vd->vd_next;
		if (!vd->vd_next)
			break;
	}
	return "";
}

static const char *sym_version(const struct elfscan *e, size_t idx, bool *hidden)
{
	*hidden = false;
	if (!e->versym || !at(e, (uint64_t)((const unsigned char *)&e->versym[idx] - e->map), 2))
		return "";
	unsigned v = e->versym[idx];
	*hidden = (v & 0x8000) != 0;
	v &= 0x7fff;
	if (v < 2)
		return "";
	if (e->sym[idx].st_shndx == SHN_UNDEF)
		return needed_version(e, v);
	return defined_version(e, v);
}

static bool is_function_def(const ElfW(Sym) * s)
{
	unsigned type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);
	return s->st_shndx != SHN_UNDEF && (type == STT_FUNC || type == STT_GNU_IFUNC) &&
	       (bind == STB_GLOBAL || bind == STB_WEAK || bind == STB_GNU_UNIQUE);
}

static void scan_relocs(const struct elfscan *e, const char *name, const char *version,
			struct elfscan_use *use)
{
	for (size_t i = 0; i < e->shnum && !use->via_got; i++) {
		const ElfW(Shdr) *sh = &e->shdr[i];
		if ((sh->sh_type != SHT_RELA && sh->sh_type != SHT_REL) ||
		    sh->sh_link != e->dynsym_idx)
			continue;
		size_t ent = sh->sh_type == SHT_RELA ? sizeof(ElfW(Rela)) : sizeof(ElfW(Rel));
		const unsigned char *tab = at(e, sh->sh_offset, sh->sh_size);
		for (size_t off = 0; tab && off + ent <= sh->sh_size; off += ent) {
			const ElfW(Rel) *r = (const void *)(tab + off);
			size_t idx = TXC_R_SYM(r->r_info);
			unsigned long type = TXC_R_TYPE(r->r_info);
			/* TXC_R_ABS: a static table entry, rewritten like a GOT slot */
			if ((type != TXC_R_JUMP_SLOT && type != TXC_R_GLOB_DAT &&
			     type != TXC_R_ABS) ||
			    !idx || idx >= e->nsym ||
			    strcmp(str_at(e, e->sym[idx].st_name), name) != 0)
				continue;
			bool hidden;
			const char *v = sym_version(e, idx, &hidden);
			if (*version && strcmp(v, version) != 0)
				continue;
			use->via_got = true;
			use->got_version = v;
			break;
		}
	}
}

void elfscan_lookup(const struct elfscan *e, const char *name, const char *version,
		    struct elfscan_use *use)
{
	memset(use, 0, sizeof(*use));
	use->got_version = use->def_version = "";
	if (!version)
		version = "";
	for (size_t i = 1; i < e->nsym && !use->defined; i++) {
		const ElfW(Sym) *s = &e->sym[i];
		if (!is_function_def(s) || strcmp(str_at(e, s->st_name), name) != 0)
			continue;
		bool hidden;
		const char *v = sym_version(e, i, &hidden);
		if (*version ? strcmp(v, version) == 0 : !hidden) {
			use->defined = true;
			use->def_version = v;
		}
	}
	scan_relocs(e, name, version, use);
}

const char *elfscan_soname(const struct elfscan *e)
{
	for (size_t i = 0; i < e->shnum; i++) {
		const ElfW(Shdr) *sh = &e->shdr[i];
		if (sh->sh_type != SHT_DYNAMIC || sh->sh_link >= e->shnum)
			continue;
		const ElfW(Shdr) *ss = &e->shdr[sh->sh_link];
		const ElfW(Dyn) *d = at(e, sh->sh_offset, sh->sh_size);
		const char *str = at(e, ss->sh_offset, ss->sh_size);
		for (size_t k = 0; d && str && k < sh->sh_size / sizeof(*d); k++) {
			if (d[k].d_tag == DT_NULL)
				break;
			if (d[k].d_tag == DT_SONAME && d[k].d_un.d_val < ss->sh_size &&
			    memchr(str + d[k].d_un.d_val, '\0', ss->sh_size - d[k].d_un.d_val))
				return str + d[k].d_un.d_val;
		}
	}
	return NULL;
}

void elfscan_build_id(const struct elfscan *e, char *hex, size_t cap)
{
	hex[0] = '\0';
	for (size_t i = 0; i < e->shnum; i++) {
		const ElfW(Shdr) *sh = &e->shdr[i];
		const void *p = at(e, sh->sh_offset, sh->sh_size);
		if (sh->sh_type == SHT_NOTE && p && ident_build_id_notes(p, sh->sh_size, hex, cap))
			return;
	}
}
