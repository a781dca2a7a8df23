/* mcsasl.c - the password file and libsasl2's start; see mcsasl.h. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mcsasl.h"
#include "privfile.h"

/* 256 bytes of password, one newline, and the NUL */
#define PW_CAP 258

/* libsasl2's names; libmemcached links it, so it is loaded by now. */
typedef int (*sasl_init_fn)(const void *callbacks);
typedef const char *(*sasl_errstring_fn)(int code, const char *langlist, const char **outlang);

int mcsasl_load(const char *path, char **pw, char *msg, size_t msglen)
{
	size_t len;
	int err;

	*pw = malloc(PW_CAP);
	if (!*pw)
		return TXC_ENOMEM;
	err = privfile_read(path, *pw, PW_CAP, 1, &len, msg, msglen);
	if (!err && len == 0)
		snprintf(msg, msglen, "the password is empty");
	else if (!err && strlen(*pw) != len)
		snprintf(msg, msglen, "the password holds a NUL byte");
	if (err || len == 0 || strlen(*pw) != len) {
		mcsasl_wipe(pw);
		return TXC_ECONFIG;
	}
	return 0;
}

void mcsasl_wipe(char **pw)
{
	if (!*pw)
		return;
	explicit_bzero(*pw, PW_CAP);
	free(*pw);
	*pw = NULL;
}

/* sasl_client_init(NULL) once more: libsasl2 counts its starts, so
 * libmemcached's own call later succeeds when this one did. */
static int sasl_start(char *msg, size_t msglen)
{
	void *h = dlopen("libsasl2.so.2", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	sasl_init_fn init = h ? (sasl_init_fn)dlsym(h, "sasl_client_init") : NULL;
	sasl_errstring_fn errstr = h ? (sasl_errstring_fn)dlsym(h, "sasl_errstring") : NULL;
	int rc;

	if (!init) {
		snprintf(msg, msglen, "libmemcached was built without SASL (no libsasl2.so.2)");
		return TXC_EUNAVAIL;
	}
	rc = init(NULL);
	if (rc != 0) { /* SASL_OK */
		snprintf(msg, msglen, "libsasl2 failed to start (%s)",
			 errstr ? errstr(rc, NULL, NULL) : "unknown error");
		return TXC_EUNAVAIL;
	}
	return 0;
}

int mcsasl_apply(memcached_st *mc, const char *user, char **pw, char *msg, size_t msglen)
{
	memcached_return_t rc;
	int err = sasl_start(msg, msglen);

	if (err) {
		mcsasl_wipe(pw);
		return err;
	}
	rc = MC(set_sasl_auth_data)(mc, user, *pw);
	mcsasl_wipe(pw);
	if (rc == MEMCACHED_SUCCESS)
		return 0;
	snprintf(msg, msglen, "%s",
		 rc == MEMCACHED_NOT_SUPPORTED ? "libmemcached was built without SASL"
					       : "libmemcached refused the SASL settings");
	return TXC_EUNAVAIL;
}

const char *mcsasl_failure(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_AUTH_FAILURE:
		return "wrong user name or password";
	case MEMCACHED_AUTH_PROBLEM:
		return "the SASL exchange failed: no common mechanism, or libsasl2 has "
		       "no PLAIN plugin";
	case MEMCACHED_AUTH_CONTINUE:
		return "the server asked for more SASL steps than the mechanism has";
	default:
		return NULL;
	}
}

const char *mcsasl_refusal(memcached_st *mc, int nservers, bool refused)
{
	for (int i = 0; i < nservers; i++) {
		const memcached_instance_st *srv = MC(server_instance_by_position)(mc, (uint32_t)i);
		const char *why = srv ? mcsasl_failure(MC(server_error_return)(srv)) : NULL;

		if (why)
			return why;
	}
	return refused ? mcsasl_failure(MEMCACHED_AUTH_FAILURE) : NULL;
}
