/* app.c - the slowdb command line: an ordinary program using libslowdb.
 *
 *   slowdb get USER...        prints "USER: EMAIL" or "USER: not found"
 *   slowdb set USER EMAIL     stores EMAIL for USER
 *
 * Exit status: 0 on success (an unknown user is an answer, not an error),
 * 1 when the database fails, 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "slowdb.h"

static int usage(void)
{
	fprintf(stderr, "usage: slowdb get USER...\n"
			"       slowdb set USER EMAIL\n");
	return 2;
}

static int cmd_get(int argc, char **argv)
{
	char email[256];
	int status = 0;

	for (int i = 0; i < argc; i++) {
		int n = db_get(argv[i], email, sizeof(email));

		if (n >= 0) {
			printf("%s: %s\n", argv[i], email);
		} else if (n == -1) {
			printf("%s: not found\n", argv[i]);
		} else {
			fprintf(stderr, "slowdb: %s: %s\n", argv[i],
				n == -2 ? "email too long" : "cannot read the database");
			status = 1;
		}
	}
	return status;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "get") == 0)
		return cmd_get(argc - 2, argv + 2);
	if (argc == 4 && strcmp(argv[1], "set") == 0) {
		if (db_set(argv[2], argv[3]) != 0) {
			fprintf(stderr, "slowdb: set %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		return 0;
	}
	return usage();
}
