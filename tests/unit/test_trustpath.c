/* test_trustpath.c - trust_path_check's contract: what it returns and
 * writes, errno kept, and the cases a shell test cannot stage (the path
 * names another file than the one opened, a symlink loop, a pipe). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "trustpath.h"

static char dir[] = "/tmp/test_trustpath_XXXXXX";

/* Writes DIR/NAME with MODE and returns an fd open on it for reading. */
static int make_file(const char *name, mode_t mode, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "[cache]\n", 8) != 8 || close(fd) != 0 || chmod(path, mode) != 0)
		return -1;
	return open(path, O_RDONLY);
}

static void test_file(void)
{
	char path[PATH_MAX], msg[PATH_MAX + 200];
	int fd = make_file("good.ini", 0644, path, sizeof(path));
	errno = 12345;
	CHECK(fd >= 0 && trust_path_check(path, fd, msg, sizeof(msg)) == 0 && msg[0] == '\0' &&
		  errno == 12345,
	      "0644 in a private dir under /tmp: trusted, MSG empty, errno kept");
	CHECK(fchmod(fd, 0620) == 0 &&
		  trust_path_check(path, fd, msg, sizeof(msg)) == TXC_ECONFIG &&
		  strcmp(msg, "refusing a config that others can write (mode 0620)") == 0 &&
		  errno == 12345,
	      "0620: refused by fstat on the fd: %s", msg);
	CHECK(trust_path_check(path, fd, NULL, 0) == TXC_ECONFIG, "no MSG buffer: still refused");
	char small[8];
	CHECK(trust_path_check(path, fd, small, sizeof(small)) == TXC_ECONFIG &&
		  strlen(small) == sizeof(small) - 1,
	      "a small MSG is cut, NUL-terminated");
	CHECK(fchmod(fd, 0600) == 0 && trust_path_check("", fd, msg, sizeof(msg)) == TXC_ECONFIG,
	      "an empty path: refused");
	close(fd);
}

static void test_replaced(void)
{
	char a[PATH_MAX], b[PATH_MAX], msg[PATH_MAX + 200];
	int fa = make_file("a.ini", 0600, a, sizeof(a));
	int fb = make_file("b.ini", 0600, b, sizeof(b));
	/* fa was opened as a.ini, but the name now leads to b.ini's file */
	CHECK(fa >= 0 && fb >= 0 && trust_path_check(b, fa, msg, sizeof(msg)) == TXC_ECONFIG &&
		  strstr(msg, "replaced while it was checked"),
	      "the name no longer names the file opened: %s", msg);
	char loop[PATH_MAX];
	snprintf(loop, sizeof(loop), "%s/loop", dir);
	CHECK(symlink("loop", loop) == 0 &&
		  trust_path_check(loop, fa, msg, sizeof(msg)) == TXC_ECONFIG &&
		  strstr(msg, "too many symlinks"),
	      "a symlink loop: refused: %s", msg);
	char via[PATH_MAX];
	snprintf(via, sizeof(via), "%s/./sub/../a.ini", dir);
	snprintf(loop, sizeof(loop), "%s/sub", dir);
	CHECK(mkdir(loop, 0755) == 0 && trust_path_check(via, fa, msg, sizeof(msg)) == 0,
	      ". and .. resolved: %s", msg);
	close(fa);
	close(fb);
}

static void test_pipe(void)
{
	int p[2];
	char msg[PATH_MAX + 200], name[64];
	CHECK(pipe(p) == 0, "pipe");
	snprintf(name, sizeof(name), "/dev/fd/%d", p[0]);
	CHECK(trust_path_check(name, p[0], msg, sizeof(msg)) == 0,
	      "an anonymous pipe has no directory to check: %s", msg);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	umask(022);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_file();
	test_replaced();
	test_pipe();
	char cmd[PATH_MAX];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done();
}
