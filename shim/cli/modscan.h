/* modscan.h - the modules a program loads at start, as the shim would see
 * them: for `txcache check PROGRAM` and `txcache suggest PROGRAM`.
 *
 * The libraries and their order come from the program's own loader in list
 * mode (`ld.so --list`, what ldd runs); their symbols from the files
 * (elfscan.h). Nothing of the program is executed.
 */
#ifndef TXC_MODSCAN_H
#define TXC_MODSCAN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "elfscan.h"

struct modscan_module {
	char path[PATH_MAX]; /* real path */
	struct elfscan *elf; /* NULL when the file could not be read */
	bool never_patched;  /* libc, the loader, or a dependency of the shim */
};

struct modscan {
	char program[PATH_MAX]; /* PROGRAM found along PATH */
	struct modscan_module *m;
	size_t n; /* m[0] is the program */
};

/* What modscan_open found wrong (the message is printed already). */
enum modscan_status {
	MODSCAN_OK = 0,
	MODSCAN_NOINPUT = -1, /* no such program, or not an ELF file of this machine */
	MODSCAN_STATIC = -2,  /* statically linked: nothing can be intercepted */
	MODSCAN_NOLIST = -3   /* its loader could not list its libraries */
};

/* Finds PROG (along PATH when it has no slash), lists what it loads at start
 * and opens every module's symbols. CMD names the command in messages
 * ("txcache check"). Returns MODSCAN_OK with *S filled (free with
 * modscan_close), or one of the statuses above after printing why (stderr,
 * or stdout for MODSCAN_STATIC, which is a verdict); *S is empty then. */
int modscan_open(const char *cmd, const char *prog, struct modscan *s);

void modscan_close(struct modscan *s);

/* The first module other than SKIP (a path, or NULL) that imports NAME
 * (VERSION: "" for any) through a GOT slot the shim patches, or NULL.
 * *USE gets that module's use. */
const struct modscan_module *modscan_importer(const struct modscan *s, const char *name,
					      const char *version, const char *skip,
					      struct elfscan_use *use);

#endif
