/* needed.h - a library's DT_NEEDED closure, read from the files on disk.
 *
 * For a library the shim loads later (libmemcached): which modules will it
 * pull in? They may already be loaded for the host (a C++ program has
 * libstdc++), and must then be left unpatched from the start. The loaded
 * module list cannot tell, so the files are read: each name is searched
 * like the loader does, without ld.so.cache (a library cannot run
 * `ldconfig -p`): a name with a '/' as it is; else LD_LIBRARY_PATH (not
 * for setuid programs), the directory its parent was found in, libc's
 * directory (the multiarch one on Debian), /lib64, /usr/lib64, /lib,
 * /usr/lib. No malloc, no stdio: it runs before the shim patches anything.
 */
#ifndef TXC_NEEDED_H
#define TXC_NEEDED_H

/* Called with each name of the closure, LIB's own first, then every
 * DT_NEEDED entry found on the way (each once, breadth first, at most 64).
 * NAME is valid during the call only. */
typedef void (*needed_fn)(const char *name, void *ctx);

/* Reads LIB (a soname or a path) and, recursively, the libraries it needs.
 * Returns 0, or TXC_ENOTFOUND when LIB itself cannot be found or is not an
 * ELF file of this architecture (ADD is then called for LIB alone).
 * Dependencies that cannot be found or read are passed to ADD and not
 * followed. */
int needed_closure(const char *lib, needed_fn add, void *ctx);

#endif
