/* shimpath.h - where the txcache command finds libtxcache.so, the shim that
 * `txcache run` preloads and `txcache check` inspects. */
#ifndef TXC_SHIMPATH_H
#define TXC_SHIMPATH_H

#include <stddef.h>

/* Writes the shim's path to OUT (CAP bytes): $TXCACHE_LIB when set and
 * readable; else, relative to this executable's directory, the first readable
 * one of ./, ../lib/ and ../lib/MULTIARCH/ (Debian's /usr/lib/x86_64-linux-gnu,
 * compiled in from the compiler: TXC_MULTIARCH), each tried as libtxcache.so
 * then libtxcache.so.0, resolved to a real path. Returns 0, TXC_ENOTFOUND when
 * there is none (OUT then holds the last path tried), TXC_ETOOBIG when a path
 * does not fit in CAP. errno is left as it was. */
int shim_path_find(char *out, size_t cap);

#endif
