/*
 * http.c - /metrics, /healthz and /readyz on libmicrohttpd (see http.h).
 *
 * One internal polling thread serves every request; handlers only read the
 * metrics and health modules, which are thread-safe.
 */
#include "txlane/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/health.h"
#include "txlane/metrics.h"
#include "txlane/xmalloc.h"

#define HTTP_LIVENESS_SILENCE_S 30

struct http_server {
    struct MHD_Daemon *daemon;
};

static enum MHD_Result http_reply(struct MHD_Connection *conn, unsigned status, char *body,
                                  const char *content_type) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", content_type);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result http_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **con_cls) {
    (void)cls, (void)version, (void)upload_data, (void)upload_data_size, (void)con_cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return http_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, xstrdup("method not allowed\n"),
                          "text/plain");
    if (strcmp(url, "/metrics") == 0)
        return http_reply(conn, MHD_HTTP_OK, metrics_render(),
                          "text/plain; version=0.0.4; charset=utf-8");
    if (strcmp(url, "/healthz") == 0) {
        int live = health_live(HTTP_LIVENESS_SILENCE_S);
        return http_reply(conn, live ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                          xstrdup(live ? "ok\n" : "main loop stalled\n"), "text/plain");
    }
    if (strcmp(url, "/readyz") == 0) {
        char deps[128];
        health_describe(deps, sizeof(deps));
        int ready = health_ready();
        return http_reply(conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                          xasprintf("%s %s\n", ready ? "ready" : "not ready", deps), "text/plain");
    }
    return http_reply(conn, MHD_HTTP_NOT_FOUND, xstrdup("not found\n"), "text/plain");
}

http_server_t *http_start(const char *bind, int port, char *errstr, size_t errstr_size) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1) {
        snprintf(errstr, errstr_size, "invalid listen address '%s' (IPv4 expected)", bind);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
        http_handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (d == NULL) {
        snprintf(errstr, errstr_size, "could not listen on %s:%d (port in use?)", bind, port);
        return NULL;
    }
    http_server_t *srv = xcalloc(1, sizeof(*srv));
    srv->daemon = d;
    return srv;
}

void http_stop(http_server_t *srv) {
    if (srv == NULL)
        return;
    MHD_stop_daemon(srv->daemon);
    free(srv);
}
