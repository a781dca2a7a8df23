/* ident.c - the identity of a function's definition; see ident.h.
 *
 * Everything is read from the loaded module's program headers (PT_NOTE for
 * the build-id, PT_DYNAMIC for DT_SONAME and DT_VERDEF): no file is opened
 * unless the module has no build-id (then its size and mtime stand in).
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "err.h"
#include "fmt.h"
#include "ident.h"

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

static void clean_copy(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = c <= ' ' || c >= 0x7f ? '?' : (char)c;
	}
	dst[i] = '\0';
}

int ident_from_text(struct txc_ident *out, const char *text, size_t len)
{
	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(out->text))
		return TXC_EINVAL;
	memcpy(out->text, text, len);
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(text, len));
	memcpy(out->digest.b, c.digest, sizeof(out->digest.b));
	return 0;
}

int ident_make(struct txc_ident *out, enum txc_identity mode, const char *soname,
	       const char *build_id, const char *stamp, const char *version)
{
	char lib[128], bid[129], st[48], ver[64], text[TXC_IDENT_MAX];
	clean_copy(lib, sizeof(lib), soname);
	clean_copy(bid, sizeof(bid), build_id);
	clean_copy(st, sizeof(st), stamp);
	clean_copy(ver, sizeof(ver), version);
	if (mode == TXC_ID_SONAME)
		txc_fmt(text, sizeof(text), "lib=%s ver=%s", lib, ver);
	else if (bid[0])
		txc_fmt(text, sizeof(text), "lib=%s build-id=%s ver=%s", lib, bid, ver);
	else if (st[0])
		txc_fmt(text, sizeof(text), "lib=%s file=%s ver=%s", lib, st, ver);
	else
		return TXC_EINVAL;
	return ident_from_text(out, text, strlen(text));
}

/* ---- the loaded module ---- */

struct find {
	uintptr_t addr;
	bool found;
	uintptr_t base, lo, hi;
	const char *name;
	const ElfW(Phdr) * phdr;
	size_t phnum;
};

static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct find *f = data;
	(void)size;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	bool in = false;
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
		lo = s < lo ? s : lo;
		hi = e > hi ? e : hi;
		in = in || (f->addr >= s && f->addr < e);
	}
	if (!in)
		return 0;
	f->found = true;
	f->base = info->dlpi_addr;
	f->lo = lo;
	f->hi = hi;
	f->name = info->dlpi_name;
	f->phdr = info->dlpi_phdr;
	f->phnum = info->dlpi_phnum;
	return 1;
}

int ident_build_id_notes(const void *notes, size_t len, char *hex, size_t cap)
{
	static const char dig[] = "0123456789abcdef";
	const uint8_t *p = notes, *end = p + len;
	while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *nh = (const void *)p;
		size_t nsz = (nh->n_namesz + 3) & ~(size_t)3, dsz = (nh->n_descsz + 3) & ~(size_t)3;
		const uint8_t *name = p + sizeof(*nh), *desc = name + nsz;
		if (nsz > (size_t)(end - name) || dsz > (size_t)(end - desc))
			break;
		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    memcmp(name, "GNU", 4) == 0) {
			size_t k = 0;
			for (size_t i = 0; i < nh->n_descsz && k + 2 < cap; i++) {
				hex[k++] = dig[desc[i] >> 4];
				hex[k++] = dig[desc[i] & 15];
			}
			hex[k] = '\0';
			return 1;
		}
		p = desc + dsz;
	}
	return 0;
}

static void read_build_id(const struct find *f, struct ident_mod *m)
{
	for (size_t i = 0; i < f->phnum; i++) {
		const ElfW(Phdr) *ph = &f->phdr[i];
		if (ph->p_type == PT_NOTE &&
		    ident_build_id_notes((const void *)(f->base + ph->p_vaddr), ph->p_memsz,
					 m->build_id, sizeof(m->build_id)))
			return;
	}
}

/* glibc relocates most d_ptr values in place, but not in a read-only
 * dynamic section: an address inside the module is absolute. */
static uintptr_t dyn_addr(const struct find *f, ElfW(Addr) v)
{
	return v >= f->lo && v < f->hi ? v : f->base + v;
}

struct dyn {
	const char *strtab;
	const char *soname;
	const ElfW(Verdef) * verdef;
	size_t verdefnum;
};

static void read_dyn(const struct find *f, struct dyn *d)
{
	memset(d, 0, sizeof(*d));
	const ElfW(Dyn) *dyn = NULL;
	ElfW(Addr) soname = 0, verdef = 0;
	bool has_soname = false;
	for (size_t i = 0; i < f->phnum; i++)
		if (f->phdr[i].p_type == PT_DYNAMIC)
			dyn = (const void *)(f->base + f->phdr[i].p_vaddr);
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_STRTAB)
			d->strtab = (const char *)dyn_addr(f, dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_SONAME)
			soname = dyn->d_un.d_val, has_soname = true;
		else if (dyn->d_tag == DT_VERDEF)
			verdef = dyn->d_un.d_ptr;
		else if (dyn->d_tag == DT_VERDEFNUM)
			d->verdefnum = dyn->d_un.d_val;
	}
	if (d->strtab && has_soname)
		d->soname = d->strtab + soname;
	if (d->strtab && verdef)
		d->verdef = (const void *)dyn_addr(f, verdef);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void read_stamp(struct ident_mod *m)
{
	struct stat st;
	if (stat(m->path, &st) == 0)
		txc_fmt(m->stamp, sizeof(m->stamp), "%llu.%llu", (unsigned long long)st.st_size,
			(unsigned long long)st.st_mtime);
}

static int find_module(const void *addr, struct find *f, struct ident_mod *m)
{
	memset(f, 0, sizeof(*f));
	memset(m, 0, sizeof(*m));
	f->addr = (uintptr_t)addr;
	if (!addr || !dl_iterate_phdr(find_cb, f) || !f->found)
		return TXC_ENOTFOUND;
	m->base = (void *)f->base;
	if (f->name && f->name[0]) {
		clean_copy(m->path, sizeof(m->path), f->name);
	} else {
		ssize_t n = readlink("/proc/self/exe", m->path, sizeof(m->path) - 1);
		m->path[n > 0 ? n : 0] = '\0';
	}
	return 0;
}

/* Finds ADDR's module and reads its names; STAMP: the file's size and
 * mtime too when it has no build-id. */
static int describe(const void *addr, struct find *f, struct dyn *d, struct ident_mod *m,
		    bool stamp)
{
	int rc = find_module(addr, f, m);
	if (rc != 0)
		return rc;
	read_build_id(f, m);
	read_dyn(f, d);
	clean_copy(m->soname, sizeof(m->soname), d->soname ? d->soname : base_name(m->path));
	if (!m->build_id[0] && stamp)
		read_stamp(m);
	return 0;
}

int ident_module_of(const void *addr, struct ident_mod *m)
{
	struct find f;
	struct dyn d;
	int saved = errno;
	int rc = describe(addr, &f, &d, m, true);
	errno = saved;
	return rc;
}

/* The version V of the module's own definitions with dlvsym(V) == REAL.
 * IFUNCs agree: dlvsym and the GOT both hold the selected implementation. */
static void find_version(const struct find *f, const struct dyn *d, const char *name,
			 const void *real, char *out, size_t cap)
{
	out[0] = '\0';
	if (!d->verdef || !d->verdefnum)
		return;
	void *h = f->name && f->name[0] ? dlopen(f->name, RTLD_LAZY | RTLD_NOLOAD)
					: dlopen(NULL, RTLD_LAZY);
	if (!h)
		return;
	const ElfW(Verdef) *vd = d->verdef;
	for (size_t i = 0; i < d->verdefnum; i++) {
		const ElfW(Verdaux) *a = (const void *)((const char *)vd + vd->vd_aux);
		const char *v = d->strtab + a->vda_name;
		if (!(vd->vd_flags & VER_FLG_BASE) && dlvsym(h, name, v) == real) {
			clean_copy(out, cap, v);
			break;
		}
		if (!vd->vd_next)
			break;
		vd = (const void *)((const char *)vd + vd->vd_next);
	}
	dlclose(h);
}

int ident_of_addr(struct txc_ident *out, enum txc_identity mode, const char *name, const char *pin,
		  const void *real)
{
	struct find f;
	struct dyn d;
	struct ident_mod m;
	char ver[64];
	int saved = errno;
	memset(out, 0, sizeof(*out));
	int rc = describe(real, &f, &d, &m, mode == TXC_ID_BUILD_ID);
	if (rc == 0) {
		find_version(&f, &d, name, real, ver, sizeof(ver));
		if (!ver[0] && pin)
			clean_copy(ver, sizeof(ver), pin);
		rc = ident_make(out, mode, m.soname, m.build_id, m.stamp, ver);
	}
	errno = saved;
	return rc;
}
