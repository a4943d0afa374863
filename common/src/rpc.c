/*
 * rpc.c - JSON-RPC batches over libcurl multi (see rpc.h).
 *
 * The client keeps one multi handle and a pool of easy handles; libcurl
 * shares the connection cache across them, so connections stay alive
 * between batches. Request bodies are built by hand (method names and
 * params are already JSON); answers are parsed with yajl's tree API and
 * matched to calls by id.
 */
#include "txlane/rpc.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/health.h"
#include "txlane/xmalloc.h"

#define RPC_MAX_HANDLES 16

struct rpc_client {
    char *url;
    long timeout_ms;
    CURLM *multi;
    CURL *pool[RPC_MAX_HANDLES];
    size_t pool_n;
    struct curl_slist *headers;
    /* the set of batches in flight (rpc_batches_start .. its end), or NULL */
    rpc_batch_t **inflight;
    char **reqs;
    size_t ninflight;
};

static pthread_once_t rpc_curl_once = PTHREAD_ONCE_INIT;

static void rpc_curl_init(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

rpc_client_t *rpc_client_new(const char *url, long timeout_ms) {
    pthread_once(&rpc_curl_once, rpc_curl_init);
    rpc_client_t *c = xcalloc(1, sizeof(*c));
    c->url = xstrdup(url);
    c->timeout_ms = timeout_ms;
    c->multi = curl_multi_init();
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)RPC_MAX_HANDLES);
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    return c;
}

void rpc_client_free(rpc_client_t *c) {
    if (c == NULL)
        return;
    if (c->inflight != NULL) {
        int rc = rpc_batches_finish(c); /* the caller's batches get their answers */
        (void)rc;
    }
    for (size_t i = 0; i < c->pool_n; i++)
        curl_easy_cleanup(c->pool[i]);
    curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->headers);
    free(c->url);
    free(c);
}

void rpc_client_set_timeout(rpc_client_t *c, long timeout_ms) {
    c->timeout_ms = timeout_ms;
}

long rpc_client_timeout(const rpc_client_t *c) {
    return c->timeout_ms;
}

const char *rpc_client_url(const rpc_client_t *c) {
    return c->url;
}

void rpc_batch_init(rpc_batch_t *b) {
    memset(b, 0, sizeof(*b));
}

size_t rpc_batch_add(rpc_batch_t *b, const char *method, const char *params_json) {
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->calls = xrealloc(b->calls, b->cap * sizeof(rpc_call_t));
    }
    rpc_call_t *call = &b->calls[b->n];
    memset(call, 0, sizeof(*call));
    call->method = method;
    call->params = xstrdup(params_json != NULL ? params_json : "[]");
    return b->n++;
}

static void rpc_batch_clear_answers(rpc_batch_t *b) {
    for (size_t i = 0; i < b->n; i++) {
        free(b->calls[i].error_message);
        b->calls[i].error_message = NULL;
        b->calls[i].result = NULL;
        b->calls[i].error_code = 0;
    }
    if (b->tree != NULL)
        yajl_tree_free(b->tree);
    b->tree = NULL;
    b->body_len = 0;
    b->rc = 0;
    b->http_status = 0;
    b->errstr[0] = '\0';
}

void rpc_batch_reset(rpc_batch_t *b) {
    rpc_batch_clear_answers(b);
    for (size_t i = 0; i < b->n; i++)
        free(b->calls[i].params);
    b->n = 0;
}

void rpc_batch_free(rpc_batch_t *b) {
    if (b == NULL)
        return;
    rpc_batch_reset(b);
    free(b->calls);
    free(b->body);
    memset(b, 0, sizeof(*b));
}

static size_t rpc_on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
    rpc_batch_t *b = userdata;
    size_t n = size * nmemb;
    if (b->body_len + n + 1 > b->body_cap) {
        b->body_cap = (b->body_len + n + 1) * 2;
        b->body = xrealloc(b->body, b->body_cap);
    }
    memcpy(b->body + b->body_len, ptr, n);
    b->body_len += n;
    b->body[b->body_len] = '\0';
    return n;
}

/* Builds the JSON array of calls; ids are the call indexes. Caller frees. */
static char *rpc_batch_request(const rpc_batch_t *b) {
    size_t cap = 64;
    for (size_t i = 0; i < b->n; i++)
        cap += strlen(b->calls[i].method) + strlen(b->calls[i].params) + 64;
    char *req = xmalloc(cap);
    size_t len = 0;
    req[len++] = '[';
    for (size_t i = 0; i < b->n; i++) {
        len += (size_t)snprintf(req + len, cap - len,
                                "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"%s\",\"params\":%s}",
                                i ? "," : "", i, b->calls[i].method, b->calls[i].params);
    }
    req[len++] = ']';
    req[len] = '\0';
    return req;
}

static void rpc_batch_fail(rpc_batch_t *b, int rc, const char *fmt, const char *detail) {
    b->rc = rc;
    snprintf(b->errstr, sizeof(b->errstr), fmt, detail);
}

static void rpc_batch_parse(rpc_batch_t *b) {
    char perr[128];
    if (b->body == NULL || b->body_len == 0) {
        rpc_batch_fail(b, TXL_ERPC, "empty answer from node%s", "");
        return;
    }
    b->tree = yajl_tree_parse(b->body, perr, sizeof(perr));
    if (b->tree == NULL) {
        rpc_batch_fail(b, TXL_ERPC, "unparseable answer from node: %s", perr);
        return;
    }
    if (!YAJL_IS_ARRAY(b->tree)) {
        rpc_batch_fail(b, TXL_ERPC, "node answered a batch with a non-array%s", "");
        return;
    }
    size_t answered = 0;
    for (size_t i = 0; i < b->tree->u.array.len; i++) {
        yajl_val item = b->tree->u.array.values[i];
        const char *id_path[] = {"id", NULL};
        const char *res_path[] = {"result", NULL};
        const char *err_path[] = {"error", NULL};
        const char *code_path[] = {"code", NULL};
        const char *msg_path[] = {"message", NULL};
        yajl_val id = yajl_tree_get(item, id_path, yajl_t_number);
        if (id == NULL || !YAJL_IS_INTEGER(id) || YAJL_GET_INTEGER(id) < 0 ||
            (size_t)YAJL_GET_INTEGER(id) >= b->n)
            continue;
        rpc_call_t *call = &b->calls[YAJL_GET_INTEGER(id)];
        yajl_val err = yajl_tree_get(item, err_path, yajl_t_object);
        if (err != NULL) {
            yajl_val code = yajl_tree_get(err, code_path, yajl_t_number);
            yajl_val msg = yajl_tree_get(err, msg_path, yajl_t_string);
            call->error_code = code != NULL && YAJL_IS_INTEGER(code) ? YAJL_GET_INTEGER(code) : -1;
            call->error_message = xstrdup(msg != NULL ? YAJL_GET_STRING(msg) : "unknown error");
        } else {
            call->result = yajl_tree_get(item, res_path, yajl_t_any);
            if (call->result == NULL) {
                call->error_code = -1;
                call->error_message = xstrdup("answer without result");
            }
        }
        answered++;
    }
    if (answered < b->n)
        rpc_batch_fail(b, TXL_ERPC, "node left calls of a batch unanswered%s", "");
}

static CURL *rpc_handle_get(rpc_client_t *c) {
    if (c->pool_n > 0)
        return c->pool[--c->pool_n];
    return curl_easy_init();
}

static void rpc_handle_put(rpc_client_t *c, CURL *h) {
    if (c->pool_n < RPC_MAX_HANDLES)
        c->pool[c->pool_n++] = h;
    else
        curl_easy_cleanup(h);
}

int rpc_batches_start(rpc_client_t *c, rpc_batch_t **batches, size_t n) {
    assert(c->inflight == NULL);
    c->inflight = xcalloc(n ? n : 1, sizeof(*c->inflight));
    c->reqs = xcalloc(n ? n : 1, sizeof(char *));
    c->ninflight = n;
    for (size_t i = 0; i < n; i++) {
        rpc_batch_t *b = batches[i];
        c->inflight[i] = b;
        rpc_batch_clear_answers(b);
        if (b->n == 0)
            continue;
        c->reqs[i] = rpc_batch_request(b);
        CURL *h = rpc_handle_get(c);
        curl_easy_setopt(h, CURLOPT_URL, c->url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->reqs[i]);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(c->reqs[i]));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, rpc_on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 3000 ? c->timeout_ms : 3000);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_PRIVATE, b);
        b->handle = h;
        curl_multi_add_handle(c->multi, h);
    }
    /* First step at once: connections reused, requests written. */
    int running = 0;
    curl_multi_perform(c->multi, &running);
    return 0;
}

/* Reads what finished: each done batch gets its answer parsed (or its
 * failure), its handle back in the pool. */
static void rpc_collect(rpc_client_t *c) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        rpc_batch_t *b = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&b);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &b->http_status);
        if (msg->data.result != CURLE_OK) {
            rpc_batch_fail(b,
                           msg->data.result == CURLE_OPERATION_TIMEDOUT ? TXL_ETIMEOUT : TXL_EIO,
                           "could not reach node: %s", curl_easy_strerror(msg->data.result));
        } else if (b->http_status >= 300) {
            char status[32];
            snprintf(status, sizeof(status), "%ld", b->http_status);
            rpc_batch_fail(b, b->http_status >= 500 ? TXL_EIO : TXL_ERPC, "node answered HTTP %s",
                           status);
        } else {
            rpc_batch_parse(b);
        }
        curl_multi_remove_handle(c->multi, msg->easy_handle);
        rpc_handle_put(c, msg->easy_handle);
        b->handle = NULL;
    }
}

/* Ends the set in flight: every batch has its rc; returns the first failure. */
static int rpc_end(rpc_client_t *c) {
    int rc = 0;
    for (size_t i = 0; i < c->ninflight; i++) {
        rpc_batch_t *b = c->inflight[i];
        if (b->handle != NULL) { /* the transfer loop stopped early (a curl error) */
            curl_multi_remove_handle(c->multi, b->handle);
            rpc_handle_put(c, b->handle);
            b->handle = NULL;
        }
        free(c->reqs[i]);
        if (b->n > 0 && b->rc == 0 && b->tree == NULL)
            rpc_batch_fail(b, TXL_EIO, "no answer from node%s", "");
        if (b->rc != 0 && rc == 0)
            rc = b->rc;
    }
    free(c->reqs);
    free(c->inflight);
    c->reqs = NULL;
    c->inflight = NULL;
    c->ninflight = 0;
    health_set(HEALTH_NODE, rc == 0 || rc == TXL_ERPC);
    return rc;
}

int rpc_batches_busy(const rpc_client_t *c) {
    return c->inflight != NULL;
}

int rpc_batches_poll(rpc_client_t *c, int wait_ms, int *rc) {
    assert(c->inflight != NULL);
    int running = 0;
    CURLMcode mc = curl_multi_perform(c->multi, &running);
    if (mc == CURLM_OK && running > 0 && wait_ms > 0) {
        curl_multi_poll(c->multi, NULL, 0, wait_ms, NULL);
        mc = curl_multi_perform(c->multi, &running);
    }
    rpc_collect(c);
    if (mc == CURLM_OK && running > 0)
        return 0;
    *rc = rpc_end(c);
    return 1;
}

int rpc_batches_finish(rpc_client_t *c) {
    int rc = 0;
    while (!rpc_batches_poll(c, 100, &rc)) {
    }
    return rc;
}

int rpc_batches_send(rpc_client_t *c, rpc_batch_t **batches, size_t n) {
    int rc = rpc_batches_start(c, batches, n);
    if (rc != 0)
        return rc;
    return rpc_batches_finish(c);
}

int rpc_batch_send(rpc_client_t *c, rpc_batch_t *b) {
    rpc_batch_t *one[1] = {b};
    return rpc_batches_send(c, one, 1);
}

void rpc_batch_set_init(rpc_batch_set_t *s, size_t n) {
    s->n = n;
    s->b = xcalloc(n > 0 ? n : 1, sizeof(rpc_batch_t));
    s->ptrs = xcalloc(n > 0 ? n : 1, sizeof(rpc_batch_t *));
    for (size_t i = 0; i < n; i++) {
        rpc_batch_init(&s->b[i]);
        s->ptrs[i] = &s->b[i];
    }
}

int rpc_batch_set_send(rpc_client_t *c, rpc_batch_set_t *s) {
    return rpc_batches_send(c, s->ptrs, s->n);
}

const char *rpc_batch_set_error(const rpc_batch_set_t *s) {
    for (size_t i = 0; i < s->n; i++) {
        if (s->b[i].rc != 0)
            return s->b[i].errstr;
    }
    return "";
}

void rpc_batch_set_free(rpc_batch_set_t *s) {
    for (size_t i = 0; i < s->n; i++)
        rpc_batch_free(&s->b[i]);
    free(s->b);
    free(s->ptrs);
    s->b = NULL;
    s->ptrs = NULL;
    s->n = 0;
}

int rpc_result_u64(yajl_val v, unsigned long long *out) {
    const char *s = rpc_result_str(v);
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s[2] == '\0' ||
        strlen(s) > 18)
        return TXL_EINVAL;
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(s + 2, &end, 16);
    if (errno != 0 || *end != '\0')
        return TXL_EINVAL;
    *out = x;
    return 0;
}

const char *rpc_result_str(yajl_val v) {
    return v != NULL && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

int rpc_chain_id(rpc_client_t *c, unsigned long long *chain_id, char *errstr,
                 size_t errstr_size) {
    rpc_batch_t b;
    rpc_batch_init(&b);
    rpc_batch_add(&b, "eth_chainId", "[]");
    int rc = rpc_batch_send(c, &b);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "%s", b.errstr);
    } else if (b.calls[0].error_message != NULL) {
        snprintf(errstr, errstr_size, "eth_chainId: %s", b.calls[0].error_message);
        rc = TXL_ERPC;
    } else if (rpc_result_u64(b.calls[0].result, chain_id) != 0) {
        snprintf(errstr, errstr_size, "eth_chainId: malformed answer");
        rc = TXL_ERPC;
    }
    rpc_batch_free(&b);
    return rc;
}
