/* interpose.h - rewriting GOT entries (JUMP_SLOT and GLOB_DAT) and data
 * words (static tables of function pointers) of loaded modules.
 *
 * The module walks every loaded module with dl_iterate_phdr, reads its
 * dynamic section, and for each relocation that imports a configured symbol
 * (name, and version when one is pinned) asks the caller's hook what to store
 * in the slot. Pages are made writable on top of their current protection
 * (full RELRO) and restored afterwards.
 *
 * Pointer identity: a data word (R_X86_64_64 and its kin) is rewritten only
 * while it still holds a definition of its symbol (the program may have
 * stored another function there since); a GLOB_DAT or data slot holding a
 * non-PIE program's canonical PLT entry is never rewritten, since that
 * entry is what &f gives in every module and it already leads through the
 * program's patched JUMP_SLOT. So every pointer to f compares as without
 * the shim, given a hook that returns one address per definition. For a
 * data word, the hook's REAL is the definition the word holds.
 *
 * Never patched: the shim itself, the dynamic loader, the vDSO, and every
 * module in the shim's own DT_NEEDED closure (libc, libffi, libmemcached and
 * what they load), so the shim's own calls never reach a closure.
 */
#ifndef TXC_INTERPOSE_H
#define TXC_INTERPOSE_H

#include <stddef.h>

struct interpose_target {
	const char *name;    /* symbol name */
	const char *version; /* NULL or "": any version */
	const char *library; /* NULL or "": any defining library */
};

/* Asked once per matching GOT slot. FN is the index into the targets array.
 * REAL is what the slot leads to, already resolved: the GOT value when it
 * points outside the importing module, otherwise (a lazy slot) the
 * definition the loader would bind for that module (scope.h; a slot of a
 * module whose dlopen is still on its way is left to a later pass).
 * Returns the address to write, or NULL to leave the slot unchanged (for
 * example when REAL is already one of the caller's closures). */
typedef void *(*interpose_hook_fn)(void *ctx, int fn, void *real);

/* Patches every loaded module. Returns 0 and the number of slots written in
 * *NPATCHED, or a negative code; a failure in one module (logged at warn)
 * does not stop the others. Not thread-safe against itself: call under the
 * caller's lock. */
int interpose_patch_all(const struct interpose_target *targets, size_t n, interpose_hook_fn hook,
			void *ctx, int *npatched);

/* Told of each slot written, after the write: MODULE is the name of the
 * module holding the slot ("" for the main program; valid only during the
 * call), FN the index into the targets array. Runs under the pass, which
 * may be at load time: it must not call malloc or a patched function. */
typedef void (*interpose_seen_fn)(void *ctx, const char *module, int fn);

/* interpose_patch_all, calling SEEN (may be NULL) for each slot written. */
int interpose_patch_seen(const struct interpose_target *targets, size_t n, interpose_hook_fn hook,
			 void *ctx, interpose_seen_fn seen, void *seen_ctx, int *npatched);

/* Resolves the real address of TARGET as seen from the shim:
 * dlvsym(RTLD_NEXT, name, version) or dlsym(RTLD_NEXT, name).
 * Returns 0 and *REAL, or TXC_ENOTFOUND. */
int interpose_resolve(const struct interpose_target *target, void **real);

/* Returns 1 when TARGET's `library =` is unset or names the module that
 * defines REAL ("libfoo", "libfoo.so" or "libfoo.so.1"), else 0. */
int interpose_library_ok(const struct interpose_target *target, void *real);

/* Declares that the shim itself loads NAME later (a soname or a path; base
 * names are matched): NAME and its DT_NEEDED closure, read from the files
 * on disk (needed.h) and again from the loaded modules once it is loaded,
 * are then skipped like the shim's own dependencies, even those the host
 * has loaded already. The files are read by the first pass that meets a
 * loaded library not skipped otherwise (a program that loads only libc
 * never reads them). Call before the first patch; up to 4 names (longer
 * than 255 bytes: ignored), 64 in their closures. */
void interpose_add_private(const char *name);

/* Profile mode (prof.h): asked for each JUMP_SLOT whose name matches no
 * target, with the import's NAME and its definition REAL (resolved as for
 * a target); returns the address to write, or NULL to leave the slot.
 * FROM_DLSYM is 0 here (dl.c passes 1 for pointers dlsym returns). Set
 * once, before the first patch; NULL (the default): such slots are left. */
typedef void *(*interpose_any_fn)(const char *name, void *real, int from_dlsym);
void interpose_set_any(interpose_any_fn fn);
interpose_any_fn interpose_get_any(void);

#endif
