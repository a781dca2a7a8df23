/* scope.h - which definition the loader binds a module's import to.
 *
 * glibc binds a lazy PLT slot of module M on its first call by searching
 * M's own lookup scope (elf/dl-lookup.c over l_scope), not the scope of
 * whoever asks: a module loaded at start searches the global scope (the
 * main program, the preloads in order, their DT_NEEDED breadth first, then
 * what RTLD_GLOBAL dlopens added); a module a dlopen loaded searches the
 * global scope, then that dlopen's local scope (the opened module and its
 * DT_NEEDED breadth first), or the local scope first with RTLD_DEEPBIND;
 * the local scope of each later dlopen that reached it comes after. This
 * module redoes that search with its own ELF symbol lookup (DT_GNU_HASH,
 * else DT_HASH; symbol versions as dl-lookup.c's check_match), so an
 * unresolved lazy slot gets exactly the definition the loader would give.
 *
 * What it cannot see it does not guess: a module loaded by a dlopen the
 * shim did not wrap (libc's NSS, a constructor's dlopen, a never-patched
 * module's), a DT_NEEDED name it cannot match to exactly one module, a
 * record table that overflowed, a filter library (DT_FILTER, DT_AUXILIARY)
 * on the way: scope_lookup then returns TXC_ENOTFOUND and the caller keeps
 * its older answer. Known gap: records are dropped by the first pass that
 * no longer finds their module; a module closed and opened again with
 * another mode at the same address between two passes keeps its first
 * record, and with it that open's RTLD_DEEPBIND or not.
 */
#ifndef TXC_SCOPE_H
#define TXC_SCOPE_H

#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One loaded module of a pass, in link-map order (dl_iterate_phdr's). */
struct scope_mod {
	uintptr_t base;	       /* l_addr */
	uintptr_t lo, hi;      /* span of its PT_LOAD segments */
	const char *name;      /* l_name: "" for the main program */
	const ElfW(Dyn) * dyn; /* NULL: not readable this pass (gone, unnamed) */
	bool vdso;	       /* not in any search list */
};

/* Brackets each wrapped dlopen: call scope_open_begin before the real
 * dlopen and scope_open_end after scope_note_open (also when it failed).
 * A pass that meets a module of no known dlopen while one is under way
 * defers that module's lazy slots (scope_lookup returns TXC_EUNAVAIL)
 * instead of guessing. */
void scope_open_begin(void);
void scope_open_end(void);

/* Records a dlopen that returned HANDLE, opened with MODE (RTLD_GLOBAL and
 * RTLD_DEEPBIND matter). Thread-safe; call before the pass that covers it.
 * Up to 256 live records: past that, lookups of modules loaded later
 * return TXC_ENOTFOUND (logged once). */
void scope_note_open(void *handle, int mode);

/* Starts a pass over MODS[0..N), which must stay valid and unchanged until
 * the pass's last scope_lookup. The first pass fixes the modules loaded at
 * start (the global scope). Records of modules no longer in MODS are
 * dropped. Call under the caller's patch lock (one pass at a time). */
void scope_begin(const struct scope_mod *mods, size_t n);

/* Whether a scope_lookup of the current pass returned TXC_EUNAVAIL: a
 * later pass must look at every module again. */
bool scope_deferred(void);

/* The address the loader binds MODS[IMPORTER]'s import of NAME, at version
 * VER (NULL: an unversioned import), to. An IFUNC is resolved by dlsym on
 * its defining module. Returns 0 and *REAL; TXC_EUNAVAIL when IMPORTER's
 * dlopen may still be on its way to scope_note_open (leave its slot for a
 * later pass); TXC_ENOTFOUND when no module of the scope defines it or the
 * scope is not known (see above). */
int scope_lookup(size_t importer, const char *name, const char *ver, void **real);

#endif
