/* pageprot.c - writing one word of a loaded module whatever its page's
 * protection (see pageprot.h).
 *
 * The protection is read from /proc/self/maps (a byte-at-a-time parser: no
 * line buffer, no stdio, as the shim may run before malloc is usable), or
 * without /proc from the module's program headers.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "pageprot.h"

struct maps_state {
	uintptr_t lo, hi;
	int field, prot;
};

/* Feeds one byte; returns 1 when the line being parsed covers ADDR, with
 * its protection in *PROT. */
static int maps_feed(struct maps_state *s, char c, uintptr_t addr, int *prot)
{
	if (c == '\n') {
		memset(s, 0, sizeof(*s));
		return 0;
	}
	if (s->field == 0 || s->field == 1) {
		uintptr_t *x = s->field ? &s->hi : &s->lo;
		if ((c == '-' && s->field == 0) || (c == ' ' && s->field == 1))
			s->field++;
		else
			*x = *x * 16 + (uintptr_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		return 0;
	}
	if (s->field != 2)
		return 0;
	if (c == ' ') {
		s->field = 3;
		*prot = s->prot;
		return addr >= s->lo && addr < s->hi;
	}
	s->prot |= c == 'r' ? PROT_READ : c == 'w' ? PROT_WRITE : c == 'x' ? PROT_EXEC : 0;
	return 0;
}

static int maps_prot(uintptr_t addr, int *prot)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return TXC_ESYS;
	struct maps_state s = {0};
	char buf[4096];
	ssize_t got;
	int found = 0;
	while (!found && ((got = read(fd, buf, sizeof(buf))) > 0 || (got < 0 && errno == EINTR))) {
		for (ssize_t i = 0; i < got && !found; i++)
			found = maps_feed(&s, buf[i], addr, prot);
	}
	close(fd);
	return found ? 0 : TXC_ENOTFOUND;
}

/* Without /proc: RELRO pages are read-only once the module is relocated,
 * everything else keeps its PT_LOAD flags. */
static int phdr_prot(const struct pageprot_mod *m, uintptr_t page, uintptr_t pagesz, int *prot)
{
	for (size_t i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *ph = &m->phdr[i];
		uintptr_t start = (m->base + ph->p_vaddr) & ~(pagesz - 1);
		uintptr_t end = (m->base + ph->p_vaddr + ph->p_memsz) & ~(pagesz - 1);
		if (ph->p_type == PT_GNU_RELRO && page >= start && page < end) {
			*prot = PROT_READ;
			return 0;
		}
	}
	for (size_t i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *ph = &m->phdr[i];
		uintptr_t start = m->base + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && page + pagesz > start && page < start + ph->p_memsz) {
			*prot = (ph->p_flags & PF_R ? PROT_READ : 0) |
				(ph->p_flags & PF_W ? PROT_WRITE : 0) |
				(ph->p_flags & PF_X ? PROT_EXEC : 0);
			return 0;
		}
	}
	return TXC_ENOTFOUND;
}

static int page_prot(struct pageprot *p, const struct pageprot_mod *m, uintptr_t page, int *prot)
{
	if (p->cache_page == page) {
		*prot = p->cache_prot;
		return 0;
	}
	if (maps_prot(page, prot) != 0 && phdr_prot(m, page, p->pagesz, prot) != 0)
		return TXC_ENOTFOUND;
	p->cache_page = page;
	p->cache_prot = *prot;
	return 0;
}

void pageprot_init(struct pageprot *p)
{
	p->pagesz = (uintptr_t)sysconf(_SC_PAGESIZE);
	p->cache_page = 0;
	p->cache_prot = 0;
}

/* Write permission goes on top of the page's protection: a GOT may share a
 * page with code, whose PROT_EXEC must stay. */
int pageprot_write(struct pageprot *p, const struct pageprot_mod *m, uintptr_t slot, void *val,
		   void *expect)
{
	uintptr_t page = slot & ~(p->pagesz - 1);
	int prot;
	if (page_prot(p, m, page, &prot) != 0) {
		log_msg(TXC_LOG_WARN, "interpose: no protection known for %#lx in %s",
			(unsigned long)slot, m->name);
		return TXC_ENOTFOUND;
	}
	bool ro = !(prot & PROT_WRITE);
	if (ro && mprotect((void *)page, p->pagesz, prot | PROT_READ | PROT_WRITE) != 0) {
		log_msg(TXC_LOG_WARN, "interpose: mprotect %#lx in %s: %s", (unsigned long)page,
			m->name, strerror(errno));
		return TXC_ESYS;
	}
	int rc = 0;
	if (!expect)
		__atomic_store_n((void **)slot, val, __ATOMIC_RELEASE);
	else if (!__atomic_compare_exchange_n((void **)slot, &expect, val, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE))
		rc = TXC_EEXIST;
	if (ro && mprotect((void *)page, p->pagesz, prot) != 0) {
		log_msg(TXC_LOG_WARN, "interpose: restoring protection of %#lx in %s: %s",
			(unsigned long)page, m->name, strerror(errno));
		p->cache_prot = prot | PROT_WRITE;
	}
	return rc;
}
