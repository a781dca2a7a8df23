/* mcsasl.h - memcached SASL authentication for the store (store.c only).
 *
 * [cache] sasl_user and sasl_password_file: libmemcached authenticates each
 * new TCP connection with SASL, which needs its binary protocol.
 *
 * The password file is read once, by store_open (privfile.h rules: owner
 * only, no symlink, 1..257 bytes, one trailing newline stripped), into a
 * malloc'ed buffer that mcsasl_apply hands to libmemcached and wipes
 * (explicit_bzero). libmemcached keeps its own copies in every handle.
 *
 * libmemcached starts libsasl2 itself on the first authentication, with a
 * pthread_once; if that start fails it returns holding a global mutex, and
 * the next authentication in any thread blocks forever. mcsasl_apply starts
 * libsasl2 first (sasl_client_init, which counts its callers): when that
 * fails the store never authenticates, so libmemcached's start cannot fail
 * later.
 */
#ifndef TXC_MCSASL_H
#define TXC_MCSASL_H

#include <stdbool.h>
#include <stddef.h>

#include "mc.h"

/* Reads the password at PATH. Returns 0 and *PW (malloc'ed, NUL-terminated;
 * release it with mcsasl_wipe), TXC_ECONFIG with MSG set (the file breaks a
 * rule, is empty, holds a NUL byte), or TXC_ENOMEM; *PW is NULL then. */
int mcsasl_load(const char *path, char **pw, char *msg, size_t msglen);

/* Wipes and frees *PW, and sets it to NULL. NULL *PW is allowed. */
void mcsasl_wipe(char **pw);

/* Starts libsasl2 and sets USER and *PW on the template MC (binary
 * protocol from then on). Wipes *PW in every case. Returns 0, or
 * TXC_EUNAVAIL with MSG set: libmemcached has no SASL support, or libsasl2
 * failed to start. mc_load() must have succeeded. */
int mcsasl_apply(memcached_st *mc, const char *user, char **pw, char *msg, size_t msglen);

/* What RC says when it is an authentication failure ("wrong user name or
 * password", "no usable SASL mechanism ..."), else NULL. */
const char *mcsasl_failure(memcached_return_t rc);

/* After an operation on MC that reached each of its NSERVERS servers
 * (memcached_version): the failure of the first server whose last error is
 * an authentication failure; else "wrong user name or password" when
 * REFUSED (mcio_auth_refused: a server said so, whatever libmemcached
 * reported); else NULL. */
const char *mcsasl_refusal(memcached_st *mc, int nservers, bool refused);

#endif
