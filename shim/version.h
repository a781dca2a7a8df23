/* version.h - txcache's version: the one place it is written. shim/install.mk
 * reads it for txcache.pc, `txcache --version` prints it, and 60_cli checks
 * that the man pages' headers say the same. */
#ifndef TXC_VERSION_H
#define TXC_VERSION_H

#define TXC_VERSION "0.1.0"

#endif
