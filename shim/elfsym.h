/* elfsym.h - a loaded module's own definition of a symbol, found the way
 * glibc's do_lookup_x finds it in one module (elf/dl-lookup.c).
 *
 * The module's DT_GNU_HASH table is used, else DT_HASH (without either,
 * nothing is found). A symbol counts when it is defined (not SHN_UNDEF, so
 * a non-PIE program's canonical PLT entries never do), has a value, is a
 * function, IFUNC, object or untyped, is not STB_LOCAL, and its version
 * matches like check_match's: an import at version V takes V, or an
 * unversioned definition; an unversioned import takes an unversioned or
 * oldest-version definition, else the only non-hidden versioned one.
 */
#ifndef TXC_ELFSYM_H
#define TXC_ELFSYM_H

#include <elf.h>
#include <link.h>
#include <stdint.h>

#if __ELF_NATIVE_CLASS == 64
#define TXC_ST_TYPE(info) ELF64_ST_TYPE(info)
#define TXC_ST_BIND(info) ELF64_ST_BIND(info)
#else
#define TXC_ST_TYPE(info) ELF32_ST_TYPE(info)
#define TXC_ST_BIND(info) ELF32_ST_BIND(info)
#endif

struct elfsym_mod {
	uintptr_t base, lo, hi; /* l_addr, span of its PT_LOAD segments */
	const ElfW(Dyn) * dyn;	/* its dynamic section */
};

/* Looks NAME (at version VER, NULL: unversioned) up in module M. Returns
 * the symbol table entry, or NULL when M does not define it. The entry is
 * M's memory: valid while M stays loaded. */
const ElfW(Sym) * elfsym_find(const struct elfsym_mod *m, const char *name, const char *ver);

/* The d_ptr value V of M's dynamic section as an address: glibc relocates
 * most in place (absolute), some not (DT_VERDEF, a read-only section). */
uintptr_t elfsym_dyn_addr(const struct elfsym_mod *m, ElfW(Addr) v);

#endif
