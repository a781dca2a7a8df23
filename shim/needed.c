/* needed.c - DT_NEEDED closure from the files on disk; see needed.h. */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "needed.h"

#define MAX_NAMES 64
#define NAME_CAP  256

struct walk {
	char names[MAX_NAMES][NAME_CAP]; /* base names: each library once */
	char dirs[MAX_NAMES][NAME_CAP];	 /* where its parent was found */
	size_t n;
};

/* Maps PATH read-only. Returns the mapping and its size, or NULL. */
static const unsigned char *map_file(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *p = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)sizeof(ElfW(Ehdr)))
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*size = (size_t)st.st_size;
	return p;
}

/* The linker's symbol for this module's own ELF header. */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

/* An ELF file of this process's class, byte order and machine. */
static bool elf_ok(const unsigned char *f, size_t size)
{
	const ElfW(Ehdr) *eh = (const void *)f;
	return memcmp(eh->e_ident, __ehdr_start.e_ident, EI_VERSION) == 0 &&
	       eh->e_machine == __ehdr_start.e_machine && eh->e_phentsize == sizeof(ElfW(Phdr)) &&
	       eh->e_phoff < size && eh->e_phnum <= (size - eh->e_phoff) / sizeof(ElfW(Phdr));
}

/* The file offset of virtual address V, or 0 when no PT_LOAD holds it. */
static size_t vaddr_off(const ElfW(Phdr) * ph, size_t n, ElfW(Addr) v)
{
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && v >= ph[i].p_vaddr &&
		    v - ph[i].p_vaddr < ph[i].p_filesz)
			return (size_t)(v - ph[i].p_vaddr + ph[i].p_offset);
	return 0;
}

static bool known(const struct walk *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->names[i], name) == 0)
			return true;
	return false;
}

static void push(struct walk *w, const char *name, const char *dir)
{
	const char *b = strrchr(name, '/');
	b = b ? b + 1 : name;
	if (known(w, b) || w->n == MAX_NAMES || strlen(name) >= NAME_CAP)
		return;
	snprintf(w->names[w->n], NAME_CAP, "%s", b);
	/* a path: its own directory is where it is */
	if (b != name)
		snprintf(w->dirs[w->n], NAME_CAP, "%.*s", (int)(b - name - 1), name);
	else
		snprintf(w->dirs[w->n], NAME_CAP, "%s", dir);
	w->n++;
}

/* Pushes every DT_NEEDED of the ELF file F (found in DIR). */
static void read_needed(struct walk *w, const unsigned char *f, size_t size, const char *dir)
{
	const ElfW(Ehdr) *eh = (const void *)f;
	const ElfW(Phdr) *ph = (const void *)(f + eh->e_phoff);
	const ElfW(Dyn) *dyn = NULL;
	size_t ndyn = 0, strtab = 0, strsz = 0;
	for (size_t i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC && ph[i].p_offset < size &&
		    ph[i].p_filesz <= size - ph[i].p_offset) {
			dyn = (const void *)(f + ph[i].p_offset);
			ndyn = ph[i].p_filesz / sizeof(*dyn);
		}
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_STRTAB)
			strtab = vaddr_off(ph, eh->e_phnum, dyn[i].d_un.d_ptr);
		else if (dyn[i].d_tag == DT_STRSZ)
			strsz = dyn[i].d_un.d_val;
	}
	if (!strtab || strtab >= size || strsz > size - strtab)
		return;
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		size_t off = dyn[i].d_un.d_val;
		if (dyn[i].d_tag == DT_NEEDED && off < strsz &&
		    memchr(f + strtab + off, '\0', strsz - off))
			push(w, (const char *)f + strtab + off, dir);
	}
}

/* Tries DIR/NAME; on success maps it and records the directory. */
static const unsigned char *try_dir(const char *dir, size_t dlen, const char *name, size_t *size,
				    char *found, size_t cap)
{
	if (dlen == 0)
		return NULL;
	int n = snprintf(found, cap, "%.*s/%s", (int)dlen, dir, name);
	if (n < 0 || (size_t)n >= cap)
		return NULL;
	const unsigned char *f = map_file(found, size);
	if (f && !elf_ok(f, *size)) { /* another architecture: keep looking */
		munmap((void *)f, *size);
		return NULL;
	}
	return f;
}

struct libc_find {
	uintptr_t addr;
	char *dir;
	size_t cap;
};

static int libc_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct libc_find *lf = data;
	(void)size;
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_LOAD || lf->addr < lo || lf->addr - lo >= ph->p_memsz)
			continue;
		const char *slash = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
		if (slash)
			snprintf(lf->dir, lf->cap, "%.*s", (int)(slash - info->dlpi_name),
				 info->dlpi_name);
		return 1;
	}
	return 0;
}

/* The directory libc was loaded from ("" when unknown). Not dladdr: it
 * scans libc's whole symbol table for the nearest name (about 0.1 million
 * instructions a call), where only the module's path is wanted. */
static void find_libc_dir(char *dir, size_t cap)
{
	struct libc_find lf = {(uintptr_t)&strlen, dir, cap};
	dir[0] = '\0';
	dl_iterate_phdr(libc_cb, &lf);
}

/* Searches NAME (see needed.h). Returns the mapping and the path found. */
static const unsigned char *find(const char *name, const char *parent_dir, const char *libc_dir,
				 size_t *size, char *found, size_t cap)
{
	if (strchr(name, '/')) {
		const char *slash = strrchr(name, '/');
		return try_dir(name, (size_t)(slash - name), slash + 1, size, found, cap);
	}
	const char *path = secure_getenv("LD_LIBRARY_PATH");
	const unsigned char *f = NULL;
	for (const char *p = path; p && *p && !f;) {
		size_t len = strcspn(p, ":;");
		f = try_dir(p, len, name, size, found, cap);
		p += len + (p[len] != '\0');
	}
	const char *dirs[] = {parent_dir, libc_dir, "/lib64", "/usr/lib64", "/lib", "/usr/lib"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !f; i++)
		f = try_dir(dirs[i], strlen(dirs[i]), name, size, found, cap);
	return f;
}

int needed_closure(const char *lib, needed_fn add, void *ctx)
{
	static struct walk w; /* 32 KiB: off the stack; start-up is single-threaded */
	w.n = 0; /* no memset: entries past N are never read, untouched pages stay free */
	if (!lib || !add)
		return TXC_EINVAL;
	push(&w, lib, "");
	char libc_dir[NAME_CAP];
	find_libc_dir(libc_dir, sizeof(libc_dir));
	int rc = 0;
	for (size_t i = 0; i < w.n; i++) {
		char found[2 * NAME_CAP];
		size_t size = 0;
		/* the first by the name as given (a path stays a path) */
		const unsigned char *f =
		    find(i ? w.names[i] : lib, w.dirs[i], libc_dir, &size, found, sizeof(found));
		add(w.names[i], ctx);
		if (!f) {
			if (i == 0)
				rc = TXC_ENOTFOUND;
			continue;
		}
		char *slash = strrchr(found, '/');
		if (slash)
			*slash = '\0';
		read_needed(&w, f, size, found);
		munmap((void *)f, size);
	}
	return rc;
}
