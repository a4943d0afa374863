/*
 * http.h - the HTTP endpoint every program serves: /metrics (Prometheus text),
 * /healthz (200 while the main loop turns) and /readyz (200 once every
 * required dependency is reachable; see health.h). libmicrohttpd runs it on
 * its own thread; nothing here touches the program's state except through
 * the thread-safe metrics and health modules.
 */
#ifndef TXLANE_HTTP_H
#define TXLANE_HTTP_H

#include <stddef.h>

#include "txlane/err.h"

typedef struct http_server http_server_t;

/* Starts listening on bind:port. On failure returns NULL with errstr set.
 * Free with http_stop() (accepts NULL). */
http_server_t *http_start(const char *bind, int port, char *errstr, size_t errstr_size);
void http_stop(http_server_t *srv);

#endif
