/* resolve.c - bounded host name lookups; see resolve.h. */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "err.h"
#include "resolve.h"

/* One asynchronous request; heap-allocated, since a lookup that cannot be
 * cancelled still writes into it after we gave up. */
struct req {
	struct gaicb cb;
	struct addrinfo hints;
	char name[];
};

static int pick_numeric(const struct addrinfo *res, char *out, size_t outlen)
{
	const struct addrinfo *pick = res;
	int rc;

	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	}
	rc = getnameinfo(pick->ai_addr, pick->ai_addrlen, out, (socklen_t)outlen, NULL, 0,
			 NI_NUMERICHOST);
	if (rc == EAI_MEMORY)
		return TXC_ENOMEM;
	return rc == 0 ? 0 : TXC_ECONFIG;
}

static int gai_err(int rc)
{
	if (rc == EAI_MEMORY)
		return TXC_ENOMEM;
	return rc == EAI_AGAIN || rc == EAI_INPROGRESS ? TXC_ETIMEOUT : TXC_ECONFIG;
}

/* Waits for R until TIMEOUT_MS have passed. Returns getaddrinfo's code, or
 * EAI_INPROGRESS when time ran out. */
static int wait_req(struct req *r, uint32_t timeout_ms)
{
	const struct gaicb *list[1] = {&r->cb};
	struct timespec end, now, left;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	while ((rc = gai_error(&r->cb)) == EAI_INPROGRESS) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000;
		}
		if (left.tv_sec < 0)
			break;
		gai_suspend(list, 1, &left); /* EAI_ALLDONE, EAI_AGAIN or EAI_INTR */
	}
	return rc;
}

static int resolve_async(const char *host, uint32_t timeout_ms, char *out, size_t outlen)
{
	size_t len = strlen(host) + 1;
	struct req *r = calloc(1, sizeof(*r) + len);
	struct gaicb *list[1];
	int rc, err;

	if (!r)
		return TXC_ENOMEM;
	memcpy(r->name, host, len);
	r->hints.ai_socktype = SOCK_STREAM;
	r->cb.ar_name = r->name;
	r->cb.ar_request = &r->hints;
	list[0] = &r->cb;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (rc != 0) {
		free(r);
		return gai_err(rc);
	}
	rc = wait_req(r, timeout_ms);
	if (rc == EAI_INPROGRESS) {
		rc = gai_cancel(&r->cb);
		if (rc == EAI_NOTCANCELED)
			return TXC_ETIMEOUT; /* R belongs to the resolver's thread now */
		if (rc == EAI_CANCELED) {
			free(r);
			return TXC_ETIMEOUT;
		}
		rc = gai_error(&r->cb); /* EAI_ALLDONE: it finished meanwhile */
	}
	err = rc == 0 ? pick_numeric(r->cb.ar_result, out, outlen) : gai_err(rc);
	if (r->cb.ar_result)
		freeaddrinfo(r->cb.ar_result);
	free(r);
	return err;
}

int resolve_host(const char *host, uint32_t timeout_ms, char *out, size_t outlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *res;
	int saved = errno, rc, err;

	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc == 0) {
		err = pick_numeric(res, out, outlen);
		freeaddrinfo(res);
	} else {
		err = rc == EAI_NONAME ? resolve_async(host, timeout_ms, out, outlen) : gai_err(rc);
	}
	errno = saved;
	return err;
}
