/* profrun.h - run a program once in profile mode and collect its report,
 * for `txcache profile` and `txcache suggest --profile`. */
#ifndef TXC_CLI_PROFRUN_H
#define TXC_CLI_PROFRUN_H

#include "profrep.h"

/* Runs ARGV (ARGC > 0; ARGV[0] the program) under the shim in profile mode
 * with the config GIVEN (NULL: $TXCACHE_CONFIG or /etc/txcache.ini when it
 * exists, else a built-in one naming no function) plus every catalogue
 * file, and reads what every process of the run reported. RTT_US >= 0 is
 * the round trip the savings use; < 0 measures it against the config's
 * first server (else 6 us, marked assumed). Fills O's rtt_us, assumed and
 * program (ARGV[0]); leaves its other fields.
 * Returns the program's exit status (128 + N for signal N), EX_OSERR when
 * it could not run, or EX_CANTCREAT when no report file could be made.
 * *REP is the report (free with profrep_free), or NULL when there is none
 * (a message said why). */
int profile_collect(const char *given, double rtt_us, int argc, char **argv, struct profrep **rep,
		    struct profrep_opts *o);

/* Parses --rtt ARG (microseconds, 0 to 10000000) into *US. Returns 0, or
 * -1 after a line on stderr naming CMD ("txcache profile"). */
int profrun_parse_rtt(const char *cmd, const char *arg, double *us);

#endif
