/* runchild.h - a program run under the shim, with a private report file
 * the shim appends to: for `check --run`, `profile` and `suggest --profile`.
 */
#ifndef TXC_CLI_RUNCHILD_H
#define TXC_CLI_RUNCHILD_H

#include <stddef.h>

/* Makes DIR (mkdtemp under $TMPDIR when absolute, else /tmp:
 * "txcache-WHAT.XXXXXX", mode 0700) holding an empty DIR/report (0600), the
 * file the shim is told to append to. Returns 0, or -1 with errno set and
 * nothing left behind. */
int runchild_report(const char *what, char *dir, size_t dcap, char *file, size_t fcap);

/* Runs `txcache run -c CONFIG -- ARGV...` (ARGC arguments) in a forked
 * child with NAME=VALUE in its environment (none when NAME is NULL).
 * SIGINT and SIGQUIT are ignored here meanwhile, as system(3) does: a ^C
 * is for the program, and the caller's report still follows. Returns the
 * child's wait status, or -1 when it could not run. */
int runchild_run(const char *config, const char *name, const char *value, int argc, char **argv);

#endif
