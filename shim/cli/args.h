/* args.h - what the call-level subcommands (key, get, set, delete) share:
 * options, the call named on the command line, and values in and out.
 *
 * Argument syntax, one word per given parameter (see callargs.h), in
 * signature order:
 *   numbers  C literals: -7, 0x1f, 017, 'a', 1.5e3, -0x1p-2; u/l/f
 *            suffixes allowed; integers must fit the parameter's type;
 *            floats also take inf, infinity, nan (optionally signed), and
 *            a literal beyond the float type's range is refused; no
 *            leading white space; bool also takes true/false
 *   strings  as given; the word NULL is a null pointer
 *   bytes    hex digits (an optional 0x), @FILE for a file's contents,
 *            NULL for a null pointer, "" for zero bytes
 *   symptr   the text the shim keys the pointer by (symptr.h), or NULL
 *   file     a path, as a string; the key sees the file as it is now, and
 *            the key_env variables and the directory as this command has
 *            them (world.h): run it where the program runs
 */
#ifndef TXC_CLI_ARGS_H
#define TXC_CLI_ARGS_H

#include <stdbool.h>
#include <stdio.h>

#include "cache.h"
#include "callargs.h"
#include "idreg.h"
#include "world.h"

enum {
	CLI_OPT_JSON = 1,    /* --json */
	CLI_OPT_ALL = 2,     /* --all-server (flush) */
	CLI_OPT_REPLACE = 4, /* --replace (set) */
};

struct cli_opts {
	const char *config;
	const char *library; /* --library FILE: the definition's identity from FILE */
	unsigned flags;
};

/* Parses -c/--config, -h/--help and the ALLOWED CLI_OPT_* flags, stopping
 * at the first operand. Returns its index, or -1 after printing usage. */
int cli_opts_parse(int argc, char **argv, unsigned allowed, struct cli_opts *o);

/* A call named on the command line: config, cache, function and key. */
struct cli_call {
	struct txc_config *cfg;
	struct txc_cache *cache;
	int fn;
	const struct txc_sig *sig;
	struct txc_arg args[TXC_MAX_PARAMS];
	struct txc_key key; /* under ids[0]; empty when nids == 0 */
	/* The definitions the call's keys are for (ident.h): the one of
	 * --library FILE, else every one the registry lists (idreg.h). */
	struct txc_ident ids[IDREG_MAX];
	struct txc_key keys[IDREG_MAX];
	int nids;
	void *owned[2 * TXC_MAX_PARAMS]; /* buffers read from hex or files */
	int nowned;
	struct txc_world world; /* what the keys see besides the arguments */
};

/* Loads the config, finds FUNCTION (WORDS[0]) and parses its NWORDS - 1
 * arguments into C->args and C->key. CMD names the command in messages.
 * Returns 0 or a sysexits code after printing why; release C with
 * cli_call_close() either way. */
int cli_call_open(const char *cmd, const struct cli_opts *o, int nwords, char **words,
		  struct cli_call *c);
void cli_call_close(struct cli_call *c);

/* Fills C->ids and C->nids: from LIBRARY (an ELF file) when given, else
 * from FUNCTION's identity registry (none when it is missing; a full one
 * gives what it lists, with a warning). Returns 0 or a sysexits code after
 * printing why. (cmd_ident.c) */
int cli_call_idents(const char *cmd, const char *library, struct cli_call *c);

/* For commands that act on one key (get, set): returns 0 when C has exactly
 * one identity, else a sysexits code after saying how to pick one. */
int cli_call_one(const char *cmd, const struct cli_call *c);

/* Parses the result words of `set` (the return value unless void, then
 * each out-parameter in order) into *RES. Returns 0 or EX_USAGE. Buffers
 * are owned by C. */
int cli_result_parse(struct cli_call *c, int nwords, char **words, struct txc_result *res);

/* Prints RES: "ret = V" and "NAME = V" lines, or one JSON object. */
void cli_result_print(FILE *out, const struct cli_call *c, const struct txc_result *res,
		      const struct txc_value_meta *meta, bool json);

/* The name of parameter I of SIG, or "paramN" (1-based) when unnamed. */
void cli_param_label(const struct txc_sig *sig, int i, char *buf, size_t cap);

/* Maps a store/cache error to a sysexits code. */
int cli_exit_of(int err);

#endif
