/* runchild.c - a program run under the shim with a report file; see
 * runchild.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "runchild.h"

int runchild_report(const char *what, char *dir, size_t dcap, char *file, size_t fcap)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, dcap, "%s/txcache-%s.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp", what);
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, fcap, "%s/report", dir);
	mode_t old = umask(077);
	FILE *fp = fopen(file, "wx");
	umask(old);
	if (fp && fclose(fp) == 0)
		return 0;
	int e = errno;
	unlink(file);
	rmdir(dir);
	errno = e;
	return -1;
}

int runchild_run(const char *config, const char *name, const char *value, int argc, char **argv)
{
	char **av = calloc((size_t)argc + 5, sizeof(*av));
	if (!av)
		return -1;
	av[0] = "run";
	av[1] = "-c";
	av[2] = (char *)config;
	av[3] = "--";
	memcpy(av + 4, argv, (size_t)argc * sizeof(*av));
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (name && setenv(name, value, 1) != 0)
			_exit(EX_OSERR);
		_exit(cmd_run(argc + 4, av));
	}
	free(av);
	struct sigaction ign = {.sa_handler = SIG_IGN}, oint, oquit;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			st = -1;
			break;
		}
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	return pid > 0 ? st : -1;
}
