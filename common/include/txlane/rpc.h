/*
 * rpc.h - Ethereum JSON-RPC over HTTP (libcurl), in batches.
 *
 * A batch is one HTTP POST carrying many calls; rpc_batches_send() sends
 * several batches concurrently over kept-alive connections (libcurl multi)
 * and waits for all of them. rpc_batches_start() does the same without
 * waiting: the caller drives the set with rpc_batches_poll() (or ends it with
 * rpc_batches_finish()) and does other work meanwhile; a client has at most
 * one set in flight, and its blocking calls wait for that set too. Every
 * request has a timeout. Results are yajl trees owned by the batch until
 * rpc_batch_reset()/rpc_batch_free().
 *
 * A client belongs to one thread.
 */
#ifndef TXLANE_RPC_H
#define TXLANE_RPC_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "txlane/err.h"

typedef struct rpc_client rpc_client_t;

typedef struct {
    /* in: method name (static or owned by the caller) and params, a JSON
     * array text owned by the batch (set with rpc_batch_add). */
    const char *method;
    char *params;
    /* out: result points into the batch's response tree (NULL when the node
     * answered with an error); error_code/error_message from the node's error
     * object (error_message owned by the batch). */
    yajl_val result;
    long long error_code;
    char *error_message;
} rpc_call_t;

typedef struct {
    rpc_call_t *calls;
    size_t n, cap;
    /* out: 0 when the node answered every call (each call may still carry an
     * error), or TXL_EIO / TXL_ETIMEOUT / TXL_ERPC for transport failures,
     * HTTP errors and unparseable answers, with errstr set. */
    int rc;
    long http_status;
    char errstr[256];
    /* private */
    yajl_val tree;
    char *body;
    size_t body_len, body_cap;
    void *handle;
} rpc_batch_t;

/* Creates a client for url; timeout_ms bounds each HTTP request. Free with
 * rpc_client_free (accepts NULL). */
rpc_client_t *rpc_client_new(const char *url, long timeout_ms);
void rpc_client_free(rpc_client_t *c);
const char *rpc_client_url(const rpc_client_t *c);
/* The timeout of the requests started from now on, and its current value. */
void rpc_client_set_timeout(rpc_client_t *c, long timeout_ms);
long rpc_client_timeout(const rpc_client_t *c);

void rpc_batch_init(rpc_batch_t *b);
/* Appends a call; params_json is copied. Returns the call's index. */
size_t rpc_batch_add(rpc_batch_t *b, const char *method, const char *params_json);
/* Drops answers and calls, keeps the allocations for reuse. */
void rpc_batch_reset(rpc_batch_t *b);
void rpc_batch_free(rpc_batch_t *b);

/* Sends one batch and waits for its answer. Returns b->rc. */
int rpc_batch_send(rpc_client_t *c, rpc_batch_t *b) TXL_WUR;
/* Sends n batches concurrently; returns 0 if all got answers, else the first
 * failure (each batch's rc says which). */
int rpc_batches_send(rpc_client_t *c, rpc_batch_t **batches, size_t n) TXL_WUR;

/* Starts n batches and returns at once (0). The batches must stay alive and
 * untouched until the set ends; the client must have no set in flight. */
int rpc_batches_start(rpc_client_t *c, rpc_batch_t **batches, size_t n) TXL_WUR;
/* 1 while a started set has not ended. */
int rpc_batches_busy(const rpc_client_t *c);
/* Drives the set in flight, waiting at most wait_ms (0: not at all) for the
 * node. Returns 1 when the set has ended (every batch has its answer or its
 * rc; *rc is what rpc_batches_send would return), 0 while it goes on. */
int rpc_batches_poll(rpc_client_t *c, int wait_ms, int *rc);
/* Waits for the set in flight to end; returns as rpc_batches_send. */
int rpc_batches_finish(rpc_client_t *c) TXL_WUR;

/* n batches allocated and initialised together, for many calls spread over
 * batches sent side by side: b[i] is batch i. */
typedef struct {
    rpc_batch_t *b;
    rpc_batch_t **ptrs;
    size_t n;
} rpc_batch_set_t;

void rpc_batch_set_init(rpc_batch_set_t *s, size_t n);
/* rpc_batches_send over the whole set. */
int rpc_batch_set_send(rpc_client_t *c, rpc_batch_set_t *s) TXL_WUR;
/* The errstr of the first batch that failed, or "" when none did. */
const char *rpc_batch_set_error(const rpc_batch_set_t *s);
void rpc_batch_set_free(rpc_batch_set_t *s);

/* Helpers to read results: a "0x..." quantity as uint64. */
int rpc_result_u64(yajl_val v, unsigned long long *out) TXL_WUR;
/* The string value of v, or NULL. */
const char *rpc_result_str(yajl_val v);

/* One call: eth_chainId; updates the node's health. */
int rpc_chain_id(rpc_client_t *c, unsigned long long *chain_id, char *errstr,
                 size_t errstr_size) TXL_WUR;

#endif
