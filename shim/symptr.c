/* symptr.c - keys for pointers into libraries; see symptr.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "fmt.h"
#include "ident.h"
#include "symptr.h"

int symptr_text(const void *p, char *buf, size_t cap, size_t *len)
{
	struct ident_mod m;
	Dl_info info;
	int saved = errno;
	int rc = ident_module_of(p, &m);
	buf[0] = '\0';
	*len = 0;
	if (rc == 0 && dladdr(p, &info) && info.dli_sname && info.dli_saddr &&
	    (uintptr_t)p >= (uintptr_t)info.dli_saddr) {
		txc_fmt(buf, cap, "%s:%s+0x%llx", m.soname, info.dli_sname,
			(unsigned long long)((uintptr_t)p - (uintptr_t)info.dli_saddr));
	} else if (rc == 0 && (m.build_id[0] || m.stamp[0])) {
		txc_fmt(buf, cap, "%s@%s%s+0x%llx", m.soname,
			m.build_id[0] ? "" : "file=", m.build_id[0] ? m.build_id : m.stamp,
			(unsigned long long)((uintptr_t)p - (uintptr_t)m.base));
	} else {
		rc = TXC_ENOTFOUND;
	}
	/* a cut text could name two places: better uncacheable */
	if (rc == 0 && (*len = strlen(buf)) + 1 >= cap)
		rc = TXC_ENOTFOUND;
	errno = saved;
	return rc;
}

int symptr_in_sig(const struct txc_sig *sig)
{
	for (int i = 0; i < sig->nparams && i < TXC_MAX_PARAMS; i++)
		if (sig->params[i].kind == TXC_K_SYMPTR && sig->params[i].keyed)
			return 1;
	return 0;
}

int symptr_args_text(const struct txc_sig *sig, struct txc_arg *args, struct symptr_texts *tx)
{
	for (int i = 0; i < sig->nparams && i < TXC_MAX_PARAMS; i++) {
		const struct txc_param *p = &sig->params[i];
		if (p->kind != TXC_K_SYMPTR || !p->keyed || !args[i].ptr)
			continue;
		size_t len;
		int rc = symptr_text(args[i].ptr, tx->t[i], sizeof(tx->t[i]), &len);
		if (rc != 0)
			return rc;
		args[i].ptr = tx->t[i];
		args[i].len = len;
	}
	return 0;
}
