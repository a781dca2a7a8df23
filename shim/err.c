/* err.c - messages for enum txc_err. */
#include "err.h"

const char *txc_strerror(int err)
{
	switch (err) {
	case TXC_OK:
		return "success";
	case TXC_ENOMEM:
		return "out of memory";
	case TXC_EINVAL:
		return "invalid argument";
	case TXC_ENOTFOUND:
		return "not found";
	case TXC_ETIMEOUT:
		return "memcached timed out";
	case TXC_EUNAVAIL:
		return "memcached unavailable";
	case TXC_ESERVER:
		return "memcached error";
	case TXC_ECORRUPT:
		return "value failed verification";
	case TXC_ETOOBIG:
		return "too big";
	case TXC_ERANGE:
		return "cached value does not fit the buffer";
	case TXC_ECONFIG:
		return "invalid configuration";
	case TXC_ESYS:
		return "system call failed";
	case TXC_EDISABLED:
		return "caching disabled";
	case TXC_EEXIST:
		return "already exists";
	case TXC_EPENDING:
		return "reply pending";
	default:
		return "unknown error";
	}
}
