/* mcio.c - libmemcached's poll() and recv() under a per-thread deadline
 * and reply watch; see mcio.h. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "elf_arch.h"
#include "err.h"
#include "config.h"
#include "mcfd.h"
#include "mcio.h"

/* a binary response header (mcio_replies_end_noop) */
#define TAIL_MAX 24

typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef ssize_t (*recv_fn)(int, void *, size_t, int);

/* The last bytes one socket delivered during the current operation. */
struct tail {
	int fd;
	size_t len;
	char b[TAIL_MAX];
};

static poll_fn real_poll = poll;
static recv_fn real_recv = recv;
static bool installed;
/* CLOCK_MONOTONIC ns; 0 = no operation (the slots are also reached by
 * libmemcached calls made outside one, e.g. memcached_free). */
static __thread int64_t deadline_ns;
static __thread struct tail tails[TXC_MAX_SERVERS];
static __thread int ntails;	   /* -1: more sockets than servers (never expected) */
static __thread bool auth_refused; /* mcio_auth_refused() */
/* mcio_fake_reply(): the reply to hand over (NULL: none armed), and the
 * socket it went to */
static __thread const char *fake;
static __thread int fake_fd = -1;
/* mcio_pending_arm(): the socket whose pending reply comes first, and
 * what reading it gave (1: not read) */
static __thread int pend_fd = -1;
static __thread unsigned long pend_id;
static __thread int pend_err = 1;
static __thread char pend_line[128];

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int deadline_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	int64_t left;
	int left_ms;

	if (deadline_ns == 0)
		return real_poll(fds, n, timeout);
	if (fake && fake_fd < 0) { /* the armed reply is there to read */
		int ready = 0;

		for (nfds_t i = 0; i < n; i++) {
			fds[i].revents = (short)(fds[i].events & POLLIN);
			ready += fds[i].revents != 0;
		}
		if (ready)
			return ready;
	}
	left = deadline_ns - now_ns();
	if (left <= 0)
		return 0; /* libmemcached reads 0 as a timeout */
	left_ms = (int)((left + 999999) / 1000000);
	if (timeout < 0 || timeout > left_ms)
		timeout = left_ms;
	return real_poll(fds, n, timeout);
}

static void tail_note(int fd, const char *buf, size_t n)
{
	struct tail *t = NULL;

	for (int i = 0; i < ntails && !t; i++)
		if (tails[i].fd == fd)
			t = &tails[i];
	if (!t) {
		if (ntails < 0 || ntails == TXC_MAX_SERVERS) {
			ntails = -1;
			return;
		}
		t = &tails[ntails++];
		t->fd = fd;
		t->len = 0;
	}
	if (n >= TAIL_MAX) {
		memcpy(t->b, buf + n - TAIL_MAX, TAIL_MAX);
		t->len = TAIL_MAX;
		return;
	}
	if (t->len + n > TAIL_MAX) {
		size_t drop = t->len + n - TAIL_MAX;

		memmove(t->b, t->b + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->b + t->len, buf, n);
	t->len += n;
}

/* Hands the armed reply over in one piece: libmemcached reads into a
 * buffer of kilobytes, so LEN is never shorter in practice; when it is,
 * the operation reads the real reply as usual. */
static ssize_t fake_recv(int fd, void *buf, size_t len)
{
	size_t n = strlen(fake);

	if (len < n)
		return -2;
	memcpy(buf, fake, n);
	fake_fd = fd;
	return (ssize_t)n;
}

static int read_pending(int fd)
{
	int64_t left = deadline_ns - now_ns();

	pend_fd = -1;
	pend_err = left <= 0 ? TXC_ETIMEOUT
			     : mcio_read_line(fd, pend_id, (uint32_t)((left + 999999) / 1000000),
					      pend_line, sizeof(pend_line));
	return pend_err;
}

static ssize_t tail_recv(int fd, void *buf, size_t len, int flags)
{
	if (fd == pend_fd && mcfd_socket_id(fd) != pend_id)
		pend_fd = -1; /* a new socket took the number: the reply is lost with the old one */
	if (fd == pend_fd && deadline_ns != 0 && read_pending(fd) != 0) {
		errno = ECONNRESET;
		return -1;
	}
	if (fake && fake_fd < 0 && deadline_ns != 0 && !(flags & MSG_PEEK)) {
		ssize_t f = fake_recv(fd, buf, len);

		if (f >= 0)
			return f;
		fake = NULL;
	}
	ssize_t n = mcfd_recv(real_recv, fd, buf, len, flags);

	if (n > 0 && deadline_ns != 0 && !(flags & MSG_PEEK)) {
		const unsigned char *b = buf;

		tail_note(fd, buf, (size_t)n);
		/* a SASL exchange is lock-step: its reply starts a read */
		if (n >= 24 && b[0] == 0x81 && (b[1] == 0x21 || b[1] == 0x22) && b[6] == 0 &&
		    b[7] == 0x20)
			auth_refused = true;
	}
	return n;
}

void mcio_begin(uint32_t ms)
{
	deadline_ns = now_ns() + (int64_t)ms * 1000000;
	ntails = 0;
	auth_refused = false;
	mcfd_begin();
}

bool mcio_end(void)
{
	bool passed = deadline_ns != 0 && now_ns() >= deadline_ns;

	deadline_ns = 0;
	mcfd_end();
	return passed;
}

bool mcio_replies_end(const char *tail)
{
	size_t n = strlen(tail);

	if (!installed || ntails < 0)
		return true; /* cannot tell: trust libmemcached */
	if (ntails == 0 || n > TAIL_MAX)
		return false;
	for (int i = 0; i < ntails; i++)
		if (tails[i].len < n || memcmp(tails[i].b + tails[i].len - n, tail, n) != 0)
			return false;
	return true;
}

bool mcio_auth_refused(void)
{
	return auth_refused;
}

bool mcio_replies_end_noop(void)
{
	if (!installed || ntails < 0)
		return true; /* cannot tell: trust libmemcached */
	if (ntails == 0)
		return false;
	for (int i = 0; i < ntails; i++) {
		const unsigned char *h = (const unsigned char *)tails[i].b;
		static const unsigned char zero[10] = {0};

		/* magic, opcode NOOP, then key length, extras, datatype, status
		 * and body length all 0: a reply to the NOOP, nothing after it */
		if (tails[i].len < TAIL_MAX || h[0] != 0x81 || h[1] != 0x0a ||
		    memcmp(h + 2, zero, sizeof(zero)) != 0)
			return false;
	}
	return true;
}

void mcio_fake_reply(const char *reply)
{
	fake = installed ? reply : NULL;
	fake_fd = -1;
}

int mcio_fake_fd(unsigned long *id)
{
	int fd = fake ? fake_fd : -1;

	*id = fd >= 0 ? mcfd_socket_id(fd) : 0;
	fake = NULL;
	fake_fd = -1;
	return fd;
}

void mcio_pending_arm(int fd, unsigned long id)
{
	pend_fd = installed ? fd : -1;
	pend_id = id;
	pend_err = 1;
}

int mcio_pending_taken(char *line, size_t cap)
{
	int err = pend_err;

	pend_fd = -1;
	pend_err = 1;
	if (err == 0 && cap > 0) {
		strncpy(line, pend_line, cap - 1);
		line[cap - 1] = '\0';
	}
	return err;
}

/* Waits for FD to be readable until DEADLINE (monotonic ns). */
static int wait_readable(int fd, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int64_t left = deadline - now_ns();

	if (left <= 0)
		return TXC_ETIMEOUT;
	int rc = real_poll(&p, 1, (int)((left + 999999) / 1000000));
	if (rc == 0)
		return TXC_ETIMEOUT;
	return rc < 0 && errno != EINTR ? TXC_EUNAVAIL : 0;
}

int mcio_read_line(int fd, unsigned long id, uint32_t ms, char *line, size_t cap)
{
	int64_t deadline = now_ns() + (int64_t)ms * 1000000;
	size_t have = 0;

	/* peek, then take exactly the line: bytes after it are not ours */
	while (have + 1 < cap) {
		ssize_t n =
		    mcfd_recv_exact(real_recv, fd, id, line + have, cap - 1 - have, MSG_PEEK);

		if (n == 0)
			return TXC_EUNAVAIL;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return TXC_EUNAVAIL;
			int err = wait_readable(fd, deadline);
			if (err)
				return err;
			continue;
		}
		char *end =
		    memmem(line + (have ? have - 1 : 0), (size_t)n + (have ? 1 : 0), "\r\n", 2);
		size_t take = end ? (size_t)(end - line) + 2 - have : (size_t)n;

		if (mcfd_recv_exact(real_recv, fd, id, line + have, take, 0) != (ssize_t)take)
			return TXC_EUNAVAIL;
		have += take;
		if (end) {
			line[have - 2] = '\0';
			return 0;
		}
	}
	return TXC_ESERVER;
}

/* What mcio_install needs of the module. */
struct mod {
	const struct link_map *lm;
	const ElfW(Phdr) * phdr;
	ElfW(Half) phnum;
};

static int find_mod(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct mod *m = ctx;

	(void)size;
	if (info->dlpi_addr != m->lm->l_addr || !info->dlpi_name ||
	    strcmp(info->dlpi_name, m->lm->l_name) != 0)
		return 0;
	m->phdr = info->dlpi_phdr;
	m->phnum = info->dlpi_phnum;
	return 1;
}

static bool in_mod(const struct mod *m, uintptr_t a)
{
	for (ElfW(Half) i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *p = &m->phdr[i];
		uintptr_t start = m->lm->l_addr + p->p_vaddr;

		if (p->p_type == PT_LOAD && a >= start && a < start + p->p_memsz)
			return true;
	}
	return false;
}

/* glibc relocates d_ptr in place, except in a read-only dynamic section. */
static uintptr_t dyn_addr(const struct mod *m, ElfW(Addr) v)
{
	return !v || in_mod(m, v) ? v : m->lm->l_addr + v;
}

/* One slot to redirect: libmemcached's import NAME goes to WRAP, and REAL
 * keeps what it was bound to. */
struct redirect {
	const char *name;
	void *wrap;
	void **real;
	bool done;
};

static int write_slot(const struct mod *m, void **slot, struct redirect *r)
{
	uintptr_t pagesz = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t page = (uintptr_t)slot & ~(pagesz - 1);
	bool ro = false;

	for (ElfW(Half) i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *p = &m->phdr[i];
		uintptr_t start = m->lm->l_addr + p->p_vaddr;

		if (p->p_type == PT_GNU_RELRO && (uintptr_t)slot >= start &&
		    (uintptr_t)slot < start + p->p_memsz)
			ro = true;
	}
	if (ro && mprotect((void *)page, pagesz, PROT_READ | PROT_WRITE) != 0)
		return TXC_EUNAVAIL;
	/* A lazily bound slot still points into the module's PLT: calling that
	 * would bind it again, over the wrapper. */
	if (*slot != r->wrap) {
		void *real = in_mod(m, (uintptr_t)*slot) ? dlsym(RTLD_DEFAULT, r->name) : *slot;

		if (real)
			*r->real = real;
	}
	*slot = r->wrap;
	r->done = true;
	if (ro)
		mprotect((void *)page, pagesz, PROT_READ);
	return 0;
}

/* Patches the JUMP_SLOT / GLOB_DAT relocations of RS's names in [REL, +SZ). */
static int patch_relocs(const struct mod *m, const ElfW(Sym) * symtab, const char *strtab,
			uintptr_t rel, size_t sz, bool rela, struct redirect *rs, size_t nrs)
{
	size_t ent = rela ? sizeof(ElfW(Rela)) : sizeof(ElfW(Rel));

	for (size_t off = 0; rel && off + ent <= sz; off += ent) {
		const ElfW(Rel) *r = (const void *)(rel + off); /* Rela starts alike */
		size_t type = TXC_R_TYPE(r->r_info), sym = TXC_R_SYM(r->r_info);

		if ((type != TXC_R_JUMP_SLOT && type != TXC_R_GLOB_DAT) || sym == 0)
			continue;
		for (size_t i = 0; i < nrs; i++) {
			if (strcmp(strtab + symtab[sym].st_name, rs[i].name) != 0)
				continue;
			if (write_slot(m, (void **)(m->lm->l_addr + r->r_offset), &rs[i]) != 0)
				return TXC_EUNAVAIL;
		}
	}
	return 0;
}

/* poll, recv, then mcfd's slots. */
#define NREDIRECT 8

static size_t redirects(struct redirect *rs)
{
	struct mcfd_slot fs[NREDIRECT - 2];
	size_t n = mcfd_slots(fs, NREDIRECT - 2);

	rs[0] = (struct redirect){"poll", (void *)deadline_poll, (void **)&real_poll, false};
	rs[1] = (struct redirect){"recv", (void *)tail_recv, (void **)&real_recv, false};
	for (size_t i = 0; i < n; i++)
		rs[2 + i] = (struct redirect){fs[i].name, fs[i].wrap, fs[i].real, false};
	return 2 + n;
}

int mcio_install(void *handle)
{
	struct redirect rs[NREDIRECT];
	size_t nrs = redirects(rs);
	ElfW(Addr) v[DT_NUM] = {0};
	struct link_map *lm = NULL;
	struct mod m = {0};
	int err;

	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm || !lm->l_ld)
		return TXC_EUNAVAIL;
	m.lm = lm;
	if (!dl_iterate_phdr(find_mod, &m))
		return TXC_EUNAVAIL;
	for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++)
		if (d->d_tag > 0 && d->d_tag < DT_NUM)
			v[d->d_tag] = d->d_un.d_ptr;
	const ElfW(Sym) *symtab = (const void *)dyn_addr(&m, v[DT_SYMTAB]);
	const char *strtab = (const void *)dyn_addr(&m, v[DT_STRTAB]);
	if (!symtab || !strtab)
		return TXC_EUNAVAIL;
	err = patch_relocs(&m, symtab, strtab, dyn_addr(&m, v[DT_JMPREL]), v[DT_PLTRELSZ],
			   v[DT_PLTREL] == DT_RELA, rs, nrs);
	if (!err && v[DT_RELA])
		err = patch_relocs(&m, symtab, strtab, dyn_addr(&m, v[DT_RELA]), v[DT_RELASZ], true,
				   rs, nrs);
	else if (!err)
		err = patch_relocs(&m, symtab, strtab, dyn_addr(&m, v[DT_REL]), v[DT_RELSZ], false,
				   rs, nrs);
	/* poll and recv are needed; an import the library does not have
	 * (sendmsg, shutdown) needs no wrapper. socket must be there. */
	if (err || !rs[0].done || !rs[1].done || !rs[2].done)
		return TXC_EUNAVAIL;
	installed = true;
	return 0;
}
