/* txcache - the companion command. main.c only dispatches to cmd_*.c. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "version.h"

const struct cli_cmd cli_commands[] = {
    {"check", cmd_check,
     "check [-c CONFIG] [PROGRAM]        validate a config; say what PROGRAM lets it intercept"},
    {"check", cmd_check,
     "check --run [-c CONFIG] -- PROGRAM [ARG...]  run PROGRAM; say what it really redirected"},
    {"profile", cmd_profile,
     "profile [-c CONFIG] [-o FILE] [--json] [--rtt US] -- PROGRAM [ARG...]  time PROGRAM's "
     "calls; say what caching would save"},
    {"run", cmd_run, "run [-c CONFIG] -- PROGRAM [ARG...] run PROGRAM with the shim preloaded"},
    {"warm", cmd_warm,
     "warm [-c CONFIG] -- PROGRAM [ARG...] run PROGRAM in mode recache: recompute, store"},
    {"key", cmd_key,
     "key [-c CONFIG] [--library FILE] FUNCTION [ARG...]  print the key of a call, one per "
     "definition"},
    {"get", cmd_get,
     "get [-c CONFIG] [--json] [--library FILE] FUNCTION [ARG...]  print a call's cached "
     "result"},
    {"set", cmd_set,
     "set [-c CONFIG] [--replace] [--library FILE] FUNCTION [ARG...] -- RESULT...  store a "
     "result"},
    {"delete", cmd_delete,
     "delete [-c CONFIG] FUNCTION [ARG...] drop a call's cached result (every definition)"},
    {"flush", cmd_flush,
     "flush [-c CONFIG] [FUNCTION...]     invalidate the namespace or functions"},
    {"flush", cmd_flush, "flush [-c CONFIG] --all-server      flush_all every server (all data!)"},
    {"stats", cmd_stats, "stats [-c CONFIG] [--json]          counters published by the shim"},
    {"ls", cmd_ls, "ls [-c CONFIG] [FUNCTION]           list cached calls"},
    {"suggest", cmd_suggest,
     "suggest [-c CONFIG] [--catalogue DIR] [-o FILE] PROGRAM  a config for the catalogue "
     "functions PROGRAM imports"},
    {"suggest", cmd_suggest,
     "suggest [-c CONFIG] [--catalogue DIR] [-o FILE] --profile [--rtt US] -- PROGRAM [ARG...]  "
     "only those a profiled run finds worth caching"},
};
const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(stderr);
		return EX_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		cli_usage(stdout);
		return EX_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("txcache %s\n", TXC_VERSION);
		return EX_OK;
	}
	for (size_t i = 0; i < cli_ncommands; i++)
		if (!strcmp(argv[1], cli_commands[i].name))
			return cli_commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "txcache: unknown command '%s'\n", argv[1]);
	cli_usage(stderr);
	return EX_USAGE;
}
