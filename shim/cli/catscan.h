/* catscan.h - what the catalogue offers: every [function F] of every
 * config/catalogue/NAME.ini, for `txcache suggest`.
 *
 * Reads only section names, each entry's comment
 * and the optional [catalogue] section's `library =`. The shim loads the
 * entries themselves (include / from); this module never interprets them.
 */
#ifndef TXC_CATSCAN_H
#define TXC_CATSCAN_H

#include <stddef.h>

#define CATSCAN_NAME_MAX 64
#define CATSCAN_DOC_MAX	 2048

struct catscan_entry {
	char cat[CATSCAN_NAME_MAX];	/* the file's NAME: what `from =` takes */
	char fn[CATSCAN_NAME_MAX];	/* F */
	char library[CATSCAN_NAME_MAX]; /* the [catalogue] library = (a soname), or "" */
	/* its comment: the lines at the top of its section, one per line, else
	 * the first line just above it; "" when none */
	char doc[CATSCAN_DOC_MAX];
};

struct catscan {
	struct catscan_entry *e; /* sorted by file name, then as in the file */
	size_t n;
};

/* Reads every NAME.ini file of DIR whose NAME catalogue_name_ok() accepts. Returns 0 with *C filled
 * (free with catscan_free; it may hold no entry), or TXC_ESYS (errno set: DIR cannot be read) or
 * TXC_ENOMEM with *C empty. A file that cannot be read is skipped with one line on stderr. */
int catscan_read(const char *dir, struct catscan *c);

void catscan_free(struct catscan *c);

/* True when the file at PATH is the library LIB names: "libz.so.1" matches
 * .../libz.so.1 and .../libz.so.1.2.13; "" matches everything. */
int catscan_library_is(const char *lib, const char *path);

#endif
