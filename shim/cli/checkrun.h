/* checkrun.h - txcache check --run: what a run of a program really
 * redirected, module by module (the shim's TXCACHE_REPORT file, redir.h). */
#ifndef TXC_CHECKRUN_H
#define TXC_CHECKRUN_H

/* Removes "--run" from ARGV's options (before the first operand or "--").
 * Returns 1 when it was there (ARGC updated), else 0. */
int checkrun_take_flag(int *argc, char **argv);

/* ARGV: "check" [-c CONFIG] [--] PROGRAM [ARG...] ("--run" removed).
 * Runs PROGRAM as `txcache run` does, with TXCACHE_REPORT set to a private
 * file; after it exits, prints to stderr each module redirected, per
 * process, and the configured functions never redirected. PROGRAM's own
 * output is untouched. Returns PROGRAM's exit status (128 + N for a
 * signal N), or a sysexits code when it could not be run. */
int checkrun(int argc, char **argv);

#endif
