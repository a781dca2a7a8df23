/* elfscan.h - what an ELF file on disk imports and defines, for
 * `txcache check PROGRAM`.
 *
 * Reads the section headers of a native-class ELF file (.dynsym, its
 * strings, version tables and relocation sections). Nothing is executed.
 */
#ifndef TXC_ELFSCAN_H
#define TXC_ELFSCAN_H

#include <stdbool.h>
#include <stddef.h>

struct elfscan;

/* How one file uses one symbol name. Versions are "" when the file gives
 * none; the strings live as long as the elfscan. */
struct elfscan_use {
	bool via_got;		 /* a JUMP_SLOT or GLOB_DAT relocation names it */
	const char *got_version; /* the version that relocation's symbol asks for */
	bool defined;		 /* the file defines it (exports a definition) */
	const char *def_version; /* the version of its default definition */
};

/* Maps PATH. Returns 0 and *OUT (free with elfscan_close), TXC_ESYS (errno
 * set: cannot open or map), or TXC_EINVAL (not an ELF file of this
 * machine's class and architecture). */
int elfscan_open(const char *path, struct elfscan **out);

void elfscan_close(struct elfscan *e);

/* Returns true when the file has a dynamic section (false: static). */
bool elfscan_is_dynamic(const struct elfscan *e);

/* The program interpreter (PT_INTERP), or NULL. */
const char *elfscan_interp(const struct elfscan *e);

/* The file's DT_SONAME, or NULL when it has none. */
const char *elfscan_soname(const struct elfscan *e);

/* Writes the NT_GNU_BUILD_ID note as lowercase hex into HEX (CAP bytes,
 * NUL-terminated; "" when the file has none). */
void elfscan_build_id(const struct elfscan *e, char *hex, size_t cap);

/* Fills *USE for NAME. When VERSION is non-empty, only relocations and
 * definitions of that version count. Never fails. */
void elfscan_lookup(const struct elfscan *e, const char *name, const char *version,
		    struct elfscan_use *use);

#endif
