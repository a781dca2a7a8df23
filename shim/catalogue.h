/* catalogue.h - where the catalogue of verified signatures lives.
 *
 * The catalogue is a directory of INI files, NAME.ini (zlib.ini, libm.ini,
 * ...), each holding [function F] sections in the config's syntax and an
 * optional [catalogue] section (library = SONAME, doc = one line). A config
 * takes entries from it with `include = NAME, ...` in [cache] or
 * `from = NAME` in a [function] section (config_include.c). The shim, the
 * CLI and the tests all find it here, so they agree on the directory.
 */
#ifndef TXC_CATALOGUE_H
#define TXC_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

/* The catalogue directory: $TXCACHE_CATALOGUE when set and not empty (read
 * with secure_getenv: a setuid program gets the built-in one), else the
 * compiled-in TXC_CATALOGUE_DIR ($(PREFIX)/share/txcache/catalogue).
 * Returns a string owned by the environment or static storage: do not
 * free it; it is valid until the environment changes. */
const char *catalogue_dir(void);

/* True when NAME can name a catalogue file: 1..63 bytes of [A-Za-z0-9_.+-],
 * not starting with '.' (so no "..", no '/', no hidden file). */
bool catalogue_name_ok(const char *name);

/* Writes catalogue_dir()/NAME.ini into BUF of CAP bytes. Returns 0;
 * TXC_EINVAL when NAME is not catalogue_name_ok(); TXC_ETOOBIG when the path
 * does not fit. BUF is an empty string after a failure. */
int catalogue_path(const char *name, char *buf, size_t cap);

#endif
