/* modref.c - module instances of addresses; see modref.h. */
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <string.h>

#include "err.h"
#include "modref.h"

int modref_of(const void *addr, struct modref *ref)
{
	Dl_info info;
	struct link_map *lm = NULL;
	memset(ref, 0, sizeof(*ref));
	if (!addr || !dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return TXC_ENOTFOUND;
	ref->lm = lm;
	ref->base = lm->l_addr;
	return 0;
}

bool modref_alive(const struct modref *ref, const void *addr)
{
	struct modref now;
	if (!ref->lm)
		return true;
	if (modref_of(addr, &now) != 0)
		return false;
	return now.lm == ref->lm && now.base == ref->base;
}

static int subs_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs))
		*(unsigned long long *)data = info->dlpi_subs;
	return 1; /* the counter is the same in every entry */
}

unsigned long long modref_unloads(void)
{
	unsigned long long subs = 0;
	dl_iterate_phdr(subs_cb, &subs);
	return subs;
}
