/* modref.h - which loaded module an address lies in, and whether that very
 * module is still loaded.
 *
 * dispatch keeps one closure per real target; a target inside a plugin that
 * was dlclose()d is dead, and its closure can serve the next definition.
 * A modref names the module instance: its link_map and load base. A module
 * unloaded and another one (or a copy) loaded at the same base with a link_map
 * at the same address cannot be told apart afterwards: check right after an
 * unload (dl.h, dl_after_unload), before the next load.
 */
#ifndef TXC_MODREF_H
#define TXC_MODREF_H

#include <stdbool.h>
#include <stdint.h>

struct modref {
	const void *lm; /* struct link_map *; NULL: the address is in no module */
	uintptr_t base; /* its l_addr */
};

/* Fills *REF with the module ADDR lies in. Returns 0, or TXC_ENOTFOUND
 * (*REF zeroed: such an address is never reported gone). Takes the loader's
 * lock (dladdr): never call from a dl_iterate_phdr callback. */
int modref_of(const void *addr, struct modref *ref);

/* Returns false when REF's module is no longer the one ADDR lies in
 * (unloaded, or ADDR now in another module or none); true otherwise, and
 * always for a zeroed REF. */
bool modref_alive(const struct modref *ref, const void *addr);

/* The loader's count of unloads so far (dl_iterate_phdr's dlpi_subs): when it
 * has not moved, every modref still alive before is alive. 0 when unknown. */
unsigned long long modref_unloads(void);

#endif
