/* redir.h - where the shim redirected what: per-module tallies of the call
 * sites (GOT slots, data words) each patch pass wrote for the configured
 * functions, logged and, when TXCACHE_REPORT names a file, appended to it.
 *
 * Why: a function a program imports only from a module it dlopen()s later
 * (python3's extension modules) shows "0 call sites redirected" at start,
 * yet is cached. Each later module gets its own info line, and `txcache
 * check --run` reads the report to say what was really redirected.
 *
 * Report file (TXCACHE_REPORT=PATH): an existing regular file, opened for
 * append (O_NOFOLLOW) at the end of each pass and closed again; never
 * created. One line per record, fields separated by tabs:
 *   P PID EXE                          a process (before its first R/S line)
 *   R PID start|later COUNT FN MODULE  COUNT sites of FN written in MODULE
 *                                      ("" = the main program)
 *   S PID FN MODULE                    dlsym/dlvsym from MODULE returned FN's
 *                                      closure (first time per process)
 * Tabs and newlines in names are written as '?'.
 *
 * Threads: redir_pass_* and redir_slot run under the caller's patch lock
 * (one pass at a time); redir_dlsym may run in any thread. Nothing here
 * calls malloc or a function the shim patches (passes run at load time).
 */
#ifndef TXC_REDIR_H
#define TXC_REDIR_H

#include <stdbool.h>

#include "config.h"

/* Registers the configured functions (CFG, whose function names are read
 * in every pass, must live for the rest of the process; FN indexes
 * cfg->fns) and reads TXCACHE_REPORT, and the program's path when the
 * report or info-level lines will name it. Call once, after the log level
 * is set and before the first pass. */
void redir_init(const struct txc_config *cfg);

/* Starts a pass's tallies. */
void redir_pass_begin(void);

/* One slot of configured function FN written in MODULE (copied). */
void redir_slot(const char *module, int fn);

/* Ends the pass: one log line per module (info when LATER, that is after
 * a dlopen; debug at start), and the report's lines. */
void redir_pass_end(bool later);

/* dlsym or dlvsym, called from the module holding RA, returned configured
 * function FN's closure: reported the first time per process. */
void redir_dlsym(int fn, const void *ra);

#endif
