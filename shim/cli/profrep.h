/* profrep.h - `txcache profile`'s report: reads what the shim's profile
 * mode appended (prof.h gives the line format), adds up the processes'
 * records, and prints the table or the JSON.
 *
 * Savings, with RTT a memcached round trip:
 *   within this run  = the repeated calls' time (each at its key's mean
 *                      time) - one RTT per repeated call;
 *   on a warm rerun  = every call's time - one RTT per call.
 * Both can be negative: caching such a function would cost time.
 */
#ifndef TXC_CLI_PROFREP_H
#define TXC_CLI_PROFREP_H

#include <stdbool.h>
#include <stdio.h>

struct profrep; /* opaque */

/* Reads the report file PATH. Returns 0 and *OUT (free with
 * profrep_free), or -1 with errno set. */
int profrep_read(const char *path, struct profrep **out);

/* The number of processes that wrote a record. */
int profrep_processes(const struct profrep *r);

/* How the output is made: RTT_US the round trip, ASSUMED when it was not
 * measured; PROGRAM names the run. */
struct profrep_opts {
	double rtt_us;
	bool assumed;
	bool given; /* --rtt */
	bool json;
	const char *program;
};

/* Writes the table (or JSON) to OUT: functions with a signature by the
 * rerun saving, then the others by total time ("needs a signature"). */
void profrep_print(const struct profrep *r, const struct profrep_opts *o, FILE *out);

/* What the run saw of one function with a signature, all libraries
 * together; savings in ns, as the table computes them. */
struct profrep_fn {
	unsigned long long calls, keys, repeated;
	double ns, save_run_ns, save_rerun_ns;
};

/* Fills *F for NAME's keyed rows. Returns true, or false when the run made
 * no call of NAME with its signature known. */
bool profrep_find(const struct profrep *r, const struct profrep_opts *o, const char *name,
		  struct profrep_fn *f);

void profrep_free(struct profrep *r);

#endif
