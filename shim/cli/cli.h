/* cli.h - what the txcache subcommands share. */
#ifndef TXC_CLI_H
#define TXC_CLI_H

#include <stdio.h>

#include "config.h"

/* One subcommand: NAME, its entry point (argv[0] is the command name), and
 * its line in the usage text. Each returns a sysexits code. */
struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

/* Every command, in the order usage lists them. */
extern const struct cli_cmd cli_commands[];
extern const size_t cli_ncommands;

void cli_usage(FILE *out);

/* Parses -c/--config and -h/--help; stops at the first operand ("+").
 * Returns the index of the first operand, or -1 after printing usage. */
int cli_common_opts(int argc, char **argv, const char **config);

/* -c CONFIG, else $TXCACHE_CONFIG, else /etc/txcache.ini. */
const char *cli_config_path(const char *given);

/* Loads and validates PATH, printing problems as FILE:LINE: message.
 * Returns 0 with *CFG (free with config_free), or EX_DATAERR. */
int cli_load_config(const char *path, struct txc_config **cfg);
/* The same for the config text TEXT, named PATH in messages. */
int cli_parse_config(const char *text, const char *path, struct txc_config **cfg);

/* The whole file at PATH, NUL-terminated, in *TEXT (malloc'ed; "" when the
 * file is empty; a NUL byte in it ends the text). Returns 0, or -1 with
 * errno set and *TEXT NULL. */
int cli_read_text(const char *path, char **text);

/* Splits LINE in place at every tab into F, keeping at most MAX fields
 * (what follows the MAXth is dropped). Returns the number kept. */
int cli_split_tabs(char *line, char **f, int max);

int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_warm(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_flush(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_suggest(int argc, char **argv);
int cmd_profile(int argc, char **argv);

#endif
