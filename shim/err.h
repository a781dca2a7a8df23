/* err.h - the error codes every txcache module returns.
 *
 * Every function in the shim returns 0 on success or one of these negative
 * codes; results travel through out-parameters. The public API
 * (include/txcache.h) returns the same numbers.
 */
#ifndef TXC_ERR_H
#define TXC_ERR_H

enum txc_err {
	TXC_OK = 0,
	TXC_ENOMEM = -1,     /* an allocation failed */
	TXC_EINVAL = -2,     /* bad argument or unparsable text */
	TXC_ENOTFOUND = -3,  /* no such key / function / parameter: a miss */
	TXC_ETIMEOUT = -4,   /* memcached did not answer within timeout_ms */
	TXC_EUNAVAIL = -5,   /* memcached unreachable, or the breaker is open */
	TXC_ESERVER = -6,    /* memcached answered with an error */
	TXC_ECORRUPT = -7,   /* a value failed verification */
	TXC_ETOOBIG = -8,    /* a key or value exceeds a limit */
	TXC_ERANGE = -9,     /* a cached value does not fit the caller's buffer */
	TXC_ECONFIG = -10,   /* the configuration is invalid */
	TXC_ESYS = -11,	     /* a system call failed; errno was logged */
	TXC_EDISABLED = -12, /* caching is disabled, or the shim is inert */
	TXC_EEXIST = -13,    /* store_add: the key is already there */
	TXC_EPENDING = -14   /* a pipelined store: its reply comes later (store.h) */
};

/* Returns a static, human-readable description of ERR; never NULL. */
const char *txc_strerror(int err);

#endif
