/* mcraw.h - a minimal memcached text-protocol client for the commands that
 * libmemcached does not offer per server: lru_crawler metadump, flush_all.
 * The CLI only; the shim never uses it.
 */
#ifndef TXC_CLI_MCRAW_H
#define TXC_CLI_MCRAW_H

#include <stdio.h>

#include "config.h"

/* Connects to SRV (socket path or host:port) with TIMEOUT_MS bounding the
 * connect and every read. Returns a stream for reading and writing, or
 * NULL with errno set. Close with fclose(). */
FILE *mcraw_open(const struct txc_server *srv, unsigned timeout_ms);

/* Sends CMD (without "\r\n"). Returns 0 or -1. */
int mcraw_send(FILE *f, const char *cmd);

/* Reads one line into BUF without its line end. Returns its length or -1
 * at the end of the stream, on a timeout or when the line does not fit. */
int mcraw_line(FILE *f, char *buf, size_t cap);

/* "host:port" or the socket path of SRV, for messages. */
void mcraw_name(const struct txc_server *srv, char *buf, size_t cap);

#endif
