/* profcat.h - `txcache profile`'s config with the catalogue: every function
 * the catalogue has a verified signature for is keyed, not only the
 * config's (catalogue.h; issue 15).
 *
 * The config the shim reads in profile mode is the user's text with every
 * catalogue file (NAME.ini in catalogue_dir()) named in [cache] include =
 * (appended to the user's own include =, else added after the [cache]
 * line). include = lets the user's own entries win (config_include.c), so
 * a function the config names keeps its signature and keys.
 */
#ifndef TXC_CLI_PROFCAT_H
#define TXC_CLI_PROFCAT_H

#include <stddef.h>

/* Writes that config for the config TEXT to the new file OUT (mode 0600;
 * fails when it exists). Returns the number of catalogue files included
 * (0: the directory is missing or empty; OUT is then TEXT as it was), or
 * -1 with errno set. */
int profcat_write(const char *text, const char *out);

#endif
