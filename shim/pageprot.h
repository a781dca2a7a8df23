/* pageprot.h - one word written into a loaded module's pages (a GOT slot, a
 * data word), whatever their protection: write permission is added for the
 * store and the protection restored after it.
 */
#ifndef TXC_PAGEPROT_H
#define TXC_PAGEPROT_H

#include <link.h>
#include <stddef.h>
#include <stdint.h>

/* The page size and the last page whose protection was looked up: a pass
 * over one module writes many slots of the same page. */
struct pageprot {
	uintptr_t pagesz;
	uintptr_t cache_page; /* 0: none */
	int cache_prot;
};

/* The module a word belongs to: its program headers are the fallback when
 * /proc/self/maps cannot be read. */
struct pageprot_mod {
	uintptr_t base; /* l_addr */
	const ElfW(Phdr) * phdr;
	size_t phnum;
	const char *name; /* for log lines */
};

void pageprot_init(struct pageprot *p);

/* Stores VAL at SLOT (release order). With EXPECT non-NULL, only while SLOT
 * still holds EXPECT (compare-and-swap: a data word the program may write
 * at the same time). Returns 0; TXC_EEXIST when SLOT no longer held EXPECT
 * (nothing written); TXC_ENOTFOUND when the page's protection is unknown or
 * TXC_ESYS when mprotect failed (nothing written; one warn line logged).
 * A failure to restore the protection is logged and leaves the page
 * writable (the cache then says so). */
int pageprot_write(struct pageprot *p, const struct pageprot_mod *m, uintptr_t slot, void *val,
		   void *expect);

#endif
