/* catalogue.c - the catalogue directory (catalogue.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "err.h"

#ifndef TXC_CATALOGUE_DIR
#define TXC_CATALOGUE_DIR "/usr/local/share/txcache/catalogue"
#endif

const char *catalogue_dir(void)
{
	const char *env = secure_getenv("TXCACHE_CATALOGUE");
	return env && *env ? env : TXC_CATALOGUE_DIR;
}

bool catalogue_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 63 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

int catalogue_path(const char *name, char *buf, size_t cap)
{
	if (cap)
		buf[0] = '\0';
	if (!catalogue_name_ok(name))
		return TXC_EINVAL;
	int n = snprintf(buf, cap, "%s/%s.ini", catalogue_dir(), name);
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			buf[0] = '\0';
		return TXC_ETOOBIG;
	}
	return 0;
}
