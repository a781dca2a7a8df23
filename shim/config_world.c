/* config_world.c - key_env and key_cwd: keys that see the world (world.h).
 *
 * key_env = NAME, NAME...  in [cache] is every function's default; a
 * function's own key_env replaces it (an empty value: no variables).
 * key_cwd = yes|no         in [cache] is the default; a function's wins.
 * key_locale = yes|no      the same.
 */
#include <string.h>

#include "config_priv.h"
#include "err.h"

typedef char env_names[TXC_KEY_ENV_MAX][TXC_ENV_NAME_MAX];

/* Checks one trimmed item S of N bytes and appends it to NAMES. */
static void add_name(struct loader *ld, const struct raw *r, const char *s, size_t n,
		     env_names names, int *count)
{
	bool ok = n > 0 && c_alpha((unsigned char)s[0]);
	for (size_t i = 1; ok && i < n; i++)
		ok = c_alnum((unsigned char)s[i]);
	if (n == 0) {
		cfg_note(ld, r->line, false, "key_env: empty entry");
	} else if (!ok) {
		cfg_note(ld, r->line, false,
			 "key_env: '%.*s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
			 n > 40 ? 40 : (int)n, s);
	} else if (n >= TXC_ENV_NAME_MAX) {
		cfg_note(ld, r->line, false, "key_env: '%.40s...' is longer than %d bytes", s,
			 TXC_ENV_NAME_MAX - 1);
	} else if (*count == TXC_KEY_ENV_MAX) {
		cfg_note(ld, r->line, false, "key_env: more than %d variables", TXC_KEY_ENV_MAX);
	} else {
		for (int i = 0; i < *count; i++) {
			if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) {
				cfg_note(ld, r->line, false, "key_env: '%s' is listed twice",
					 names[i]);
				return;
			}
		}
		memcpy(names[*count], s, n);
		names[(*count)++][n] = '\0';
	}
}

/* Parses R (a comma-separated list; all blank: none) into NAMES. */
static void get_env_list(struct loader *ld, const struct raw *r, env_names names, int *count)
{
	const char *p = r->val;
	*count = 0;
	if (p[strspn(p, " \t")] == '\0')
		return;
	for (;;) {
		const char *comma = strchr(p, ','), *e = comma ? comma : p + strlen(p);
		while (p < e && c_space((unsigned char)*p))
			p++;
		const char *end = e;
		while (end > p && c_space((unsigned char)end[-1]))
			end--;
		add_name(ld, r, p, (size_t)(end - p), names, count);
		if (!comma)
			return;
		p = comma + 1;
	}
}

static void get_yes_no(struct loader *ld, const struct raw *r, const char *key, bool *out)
{
	if (r->val && !parse_bool(r->val, out))
		cfg_note(ld, r->line, false, "%s: '%.40s' is not yes/no", key, r->val);
}

void config_check_world(struct loader *ld)
{
	struct txc_config *cfg = ld->cfg;
	if (ld->cache[CK_KEY_ENV].val)
		get_env_list(ld, &ld->cache[CK_KEY_ENV], cfg->key_env, &cfg->nkey_env);
	get_yes_no(ld, &ld->cache[CK_KEY_CWD], "key_cwd", &cfg->key_cwd);
	get_yes_no(ld, &ld->cache[CK_KEY_LOCALE], "key_locale", &cfg->key_locale);
	for (int i = 0; i < cfg->nfns; i++) {
		struct txc_fn_config *fc = &cfg->fns[i];
		const struct raw *k = ld->raw[i].k;
		fc->nkey_env = cfg->nkey_env;
		memcpy(fc->key_env, cfg->key_env, sizeof(fc->key_env));
		if (k[FK_KEY_ENV].val)
			get_env_list(ld, &k[FK_KEY_ENV], fc->key_env, &fc->nkey_env);
		fc->key_cwd = cfg->key_cwd;
		get_yes_no(ld, &k[FK_KEY_CWD], "key_cwd", &fc->key_cwd);
		fc->key_locale = cfg->key_locale;
		get_yes_no(ld, &k[FK_KEY_LOCALE], "key_locale", &fc->key_locale);
	}
}
