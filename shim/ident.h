/* ident.h - the identity of a function's definition: which library, which
 * build of it, which symbol version.
 *
 * Two functions of one name (libA.so and libB.so both define calc; exp at
 * GLIBC_2.2.5 and at GLIBC_2.29) must never share keys, and an upgraded
 * library must not serve its old results. So every key mixes in the digest
 * of an identity text (see key_build):
 *
 *   build-id mode (default): "lib=SONAME build-id=HEX ver=VERSION"
 *                 no build-id: "lib=SONAME file=SIZE.MTIME ver=VERSION"
 *   soname mode:             "lib=SONAME ver=VERSION"
 *
 * SONAME is the library's DT_SONAME, else the base name of its file; HEX
 * the NT_GNU_BUILD_ID note; VERSION the symbol version of the definition
 * ("" for an unversioned one). The same text comes from the loaded module
 * (the shim, ident_of_addr) and from the file on disk (the CLI's
 * --library, through ident_make), so both build the same keys.
 *
 * The text never holds a space inside a field, nor a newline: it is also
 * one line of the identity registry (idreg.h).
 */
#ifndef TXC_IDENT_H
#define TXC_IDENT_H

#include <stddef.h>

#include "config.h"
#include "key.h"

#define TXC_IDENT_MAX 320

struct txc_ident {
	char text[TXC_IDENT_MAX]; /* NUL-terminated */
	struct txc_digest digest; /* XXH3-128 of text */
};

/* What a module says about itself. Strings are NUL-terminated copies. */
struct ident_mod {
	char soname[128];   /* DT_SONAME, else the file's base name */
	char build_id[129]; /* lowercase hex of NT_GNU_BUILD_ID, "" when none */
	char stamp[48];	    /* "SIZE.MTIME" of the file, "" when it cannot be read */
	char path[256];	    /* the file ("" for the main program: /proc/self/exe) */
	void *base;	    /* load address (dlpi_addr) */
};

/* Builds *OUT from its parts (any may be NULL for ""): bytes that could
 * break a registry line (space, control, non-ASCII) become '?'.
 * Returns 0, or TXC_EINVAL when build-id mode has neither a build-id nor
 * a stamp (nothing tells builds apart). */
int ident_make(struct txc_ident *out, enum txc_identity mode, const char *soname,
	       const char *build_id, const char *stamp, const char *version);

/* Fills *OUT from TEXT (one registry line, LEN bytes without newline).
 * Returns 0, or TXC_EINVAL when it is empty or too long. */
int ident_from_text(struct txc_ident *out, const char *text, size_t len);

/* Finds the NT_GNU_BUILD_ID note in the ELF notes [NOTES, NOTES+LEN) and
 * writes it as lowercase hex into HEX (CAP bytes, NUL-terminated). Returns
 * 1 when found, else 0 (HEX untouched). Every length is checked. */
int ident_build_id_notes(const void *notes, size_t len, char *hex, size_t cap);

/* Describes the loaded module that contains ADDR. Returns 0, or
 * TXC_ENOTFOUND when no module maps it (heap, stack, anonymous memory). */
int ident_module_of(const void *addr, struct ident_mod *out);

/* The identity of REAL, the definition of function NAME this process calls:
 * its module, and the version V of that module's definitions for which
 * dlvsym(module, NAME, V) == REAL (PIN when nothing matches and PIN is set).
 * Loader locks are taken (dl_iterate_phdr, dlopen RTLD_NOLOAD): never call
 * it while holding a lock the loader's callers may hold.
 * Returns 0, TXC_ENOTFOUND (REAL in no module) or TXC_EINVAL. */
int ident_of_addr(struct txc_ident *out, enum txc_identity mode, const char *name, const char *pin,
		  const void *real);

#endif
