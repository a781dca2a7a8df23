/* notes.c - a program that writes behind the cache's back, then tells it.
 *
 *   notes USER EMAIL
 *
 * It reads USER's email with db_get() (cached by txcache: the config lists
 * db_get but not db_set as a mutator), changes it with db_set(), then calls
 * txcache_invalidate("db_get", USER) so that its own next read, and every
 * other process's, sees the new email instead of the cached old one.
 *
 * Linked with -ltxcache: the shim's constructor runs whether or not it is
 * also preloaded, and the API reads the same TXCACHE_CONFIG.
 */
#include <stdio.h>

#include <txcache.h>

#include "../slowdb/slowdb.h"

static void show(const char *when, const char *user)
{
	char email[256];
	int n = db_get(user, email, sizeof(email));
	printf("%s: %s: %s\n", when, user, n >= 0 ? email : "not found");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: notes USER EMAIL\n");
		return 2;
	}
	show("before", argv[1]);
	if (db_set(argv[1], argv[2]) != 0) {
		perror("notes: db_set");
		return 1;
	}
	/* db_get keys on its user only (ignore = cap): one keyed argument */
	int rc = txcache_invalidate("db_get", argv[1]);
	if (rc != 0)
		fprintf(stderr, "notes: txcache_invalidate: %s\n", txcache_strerror(rc));
	show("after", argv[1]);
	return rc == 0 ? 0 : 1;
}
