/*
 * test_node_answer.c - the classification of node answers to
 * eth_sendRawTransaction: every recorded answer of tests/vectors/
 * node_answers.txt (geth and anvil) through node_answer_of_call, the action
 * of each outcome, and transport failures produced for real by rpc.h against
 * a closed port and a small local HTTP server (HTTP 503, 429, a body that is
 * not JSON, an answer that never comes).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "txlane/node_answer.h"
#include "txlane/rpc.h"
#include "txlane/xmalloc.h"
#include "unit_test.h"

static node_outcome_t outcome_parse(const char *name) {
    for (int o = 0; o < NODE_ANSWER_COUNT; o++) {
        if (strcmp(node_outcome_name((node_outcome_t)o), name) == 0)
            return (node_outcome_t)o;
    }
    ck_abort_msg("unknown outcome name in vectors: %s", name);
    return NODE_ANSWER_UNKNOWN;
}

/* Classifies one JSON-RPC response object the way the broadcaster does: as
 * call 0 of a batch whose answer it is. */
static node_answer_t classify_response(const char *json) {
    char err[256];
    yajl_val tree = yajl_tree_parse(json, err, sizeof(err));
    ck_assert_msg(tree != NULL, "vector is not JSON (%s): %s", err, json);
    rpc_batch_t b;
    rpc_batch_init(&b);
    rpc_batch_add(&b, "eth_sendRawTransaction", "[\"0x00\"]");
    const char *res_path[] = {"result", NULL};
    const char *err_path[] = {"error", NULL};
    const char *code_path[] = {"code", NULL};
    const char *msg_path[] = {"message", NULL};
    yajl_val e = yajl_tree_get(tree, err_path, yajl_t_object);
    if (e != NULL) {
        yajl_val code = yajl_tree_get(e, code_path, yajl_t_number);
        yajl_val msg = yajl_tree_get(e, msg_path, yajl_t_string);
        ck_assert_ptr_nonnull(code);
        b.calls[0].error_code = YAJL_GET_INTEGER(code);
        b.calls[0].error_message = xstrdup(msg != NULL ? YAJL_GET_STRING(msg) : "");
    } else {
        b.calls[0].result = yajl_tree_get(tree, res_path, yajl_t_any);
        ck_assert_msg(b.calls[0].result != NULL, "vector without result or error: %s", json);
    }
    node_answer_t a = node_answer_of_call(&b, 0);
    b.calls[0].result = NULL;
    rpc_batch_free(&b);
    yajl_tree_free(tree);
    return a;
}

START_TEST(test_recorded_answers) {
    FILE *f = vec_open("node_answers.txt");
    char line[2048];
    int cases = 0, anvil = 0, geth = 0;
    int seen[NODE_ANSWER_COUNT] = {0};
    while (vec_line(f, line, sizeof(line))) {
        if (line[0] == '\0')
            continue;
        char *outcome = strtok(line, "\t");
        char *reason = strtok(NULL, "\t");
        char *source = strtok(NULL, "\t");
        char *json = strtok(NULL, "");
        ck_assert_msg(outcome && reason && source && json, "malformed vector line");
        node_answer_t a = classify_response(json);
        ck_assert_msg(a.outcome == outcome_parse(outcome) && strcmp(a.reason, reason) == 0,
                      "%s answer %s: want %s/%s, got %s/%s", source, json, outcome, reason,
                      node_outcome_name(a.outcome), a.reason);
        seen[a.outcome]++;
        anvil += strncmp(source, "anvil", 5) == 0;
        geth += strncmp(source, "geth", 4) == 0;
        cases++;
    }
    fclose(f);
    ck_assert_int_ge(cases, 50);
    ck_assert_int_ge(anvil, 12);
    ck_assert_int_ge(geth, 25);
    for (int o = 0; o < NODE_ANSWER_COUNT; o++) {
        if (o != NODE_ANSWER_TRANSPORT)
            ck_assert_msg(seen[o] > 0, "no vector for outcome %s",
                          node_outcome_name((node_outcome_t)o));
    }
}
END_TEST

/* Matching ignores case and needs only a substring; the code decides only
 * for messages the table does not know. */
START_TEST(test_case_and_substring) {
    node_answer_t a = node_answer_of_error(-32000, "ALREADY KNOWN");
    ck_assert_int_eq(a.outcome, NODE_ANSWER_KNOWN);
    a = node_answer_of_error(-32000, "err: Replacement Transaction Underpriced (pool)");
    ck_assert_int_eq(a.outcome, NODE_ANSWER_UNDERPRICED);
    ck_assert_str_eq(a.reason, "replacement_underpriced");
    a = node_answer_of_error(-32602, "nonce too low");
    ck_assert_int_eq(a.outcome, NODE_ANSWER_NONCE_TOO_LOW);
    a = node_answer_of_error(-32602, "something else");
    ck_assert_int_eq(a.outcome, NODE_ANSWER_INVALID);
    a = node_answer_of_error(-32000, NULL);
    ck_assert_int_eq(a.outcome, NODE_ANSWER_UNKNOWN);
    a = node_answer_of_error(-32000, "");
    ck_assert_int_eq(a.outcome, NODE_ANSWER_UNKNOWN);
    /* Only the first 512 bytes are read: a pattern beyond them is not seen. */
    char long_msg[1200];
    memset(long_msg, 'x', sizeof(long_msg));
    strcpy(long_msg + 1000, "already known");
    ck_assert_int_eq(node_answer_of_error(-32000, long_msg).outcome, NODE_ANSWER_UNKNOWN);
    strcpy(long_msg + 10, "already known");
    ck_assert_int_eq(node_answer_of_error(-32000, long_msg).outcome, NODE_ANSWER_KNOWN);
}
END_TEST

START_TEST(test_actions) {
    static const struct {
        node_outcome_t outcome;
        node_action_t action;
        const char *name;
    } want[] = {
        {NODE_ANSWER_ACCEPTED, NODE_ACTION_SUBMITTED, "submitted"},
        {NODE_ANSWER_KNOWN, NODE_ACTION_SUBMITTED, "submitted"},
        {NODE_ANSWER_NONCE_TOO_LOW, NODE_ACTION_CHECK_MINED, "check_mined"},
        {NODE_ANSWER_UNDERPRICED, NODE_ACTION_BUMP, "bump"},
        {NODE_ANSWER_LOW_FUNDS, NODE_ACTION_HOLD_LANE, "hold_lane"},
        {NODE_ANSWER_LATER, NODE_ACTION_RETRY, "retry"},
        {NODE_ANSWER_INVALID, NODE_ACTION_CANCEL, "cancel"},
        {NODE_ANSWER_TRANSPORT, NODE_ACTION_RETRY, "retry"},
        {NODE_ANSWER_UNKNOWN, NODE_ACTION_RETRY, "retry"},
    };
    ck_assert_int_eq(sizeof(want) / sizeof(want[0]), NODE_ANSWER_COUNT);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_int_eq(node_outcome_action(want[i].outcome), want[i].action);
        ck_assert_str_eq(node_action_name(node_outcome_action(want[i].outcome)), want[i].name);
    }
}
END_TEST

/* A one-connection HTTP server: answers the first request with a canned
 * response, or with nothing (holds the connection) when response is NULL. */
typedef struct {
    int listen_fd;
    int port;
    const char *response;
    pthread_t thread;
} fake_node_t;

static void *fake_node_run(void *arg) {
    fake_node_t *fn = arg;
    int fd = accept(fn->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    (void)n;
    if (fn->response != NULL) {
        ssize_t w = write(fd, fn->response, strlen(fn->response));
        (void)w;
    } else {
        usleep(1500 * 1000);
    }
    close(fd);
    return NULL;
}

static void fake_node_start(fake_node_t *fn, const char *response) {
    memset(fn, 0, sizeof(*fn));
    fn->response = response;
    fn->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fn->listen_fd, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fn->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fn->listen_fd, 4), 0);
    socklen_t len = sizeof(sa);
    ck_assert_int_eq(getsockname(fn->listen_fd, (struct sockaddr *)&sa, &len), 0);
    fn->port = ntohs(sa.sin_port);
    ck_assert_int_eq(pthread_create(&fn->thread, NULL, fake_node_run, fn), 0);
}

static void fake_node_stop(fake_node_t *fn) {
    pthread_join(fn->thread, NULL);
    close(fn->listen_fd);
}

/* Sends a batch of two eth_sendRawTransaction calls to port, classifies
 * both answers into out[0..2) and returns the batch's rc. */
static int send_two(int port, long timeout_ms, node_answer_t out[2]) {
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    rpc_client_t *c = rpc_client_new(url, timeout_ms);
    rpc_batch_t b;
    rpc_batch_init(&b);
    rpc_batch_add(&b, "eth_sendRawTransaction", "[\"0x02\"]");
    rpc_batch_add(&b, "eth_sendRawTransaction", "[\"0x02\"]");
    int rc = rpc_batch_send(c, &b);
    out[0] = node_answer_of_call(&b, 0);
    out[1] = node_answer_of_call(&b, 1);
    rpc_batch_free(&b);
    rpc_client_free(c);
    return rc;
}

/* The classification of a batch that failed as a whole (same for both calls). */
static node_answer_t send_to(int port, long timeout_ms) {
    node_answer_t a[2];
    ck_assert_int_ne(send_two(port, timeout_ms, a), 0);
    ck_assert_int_eq(a[0].outcome, a[1].outcome);
    return a[0];
}

static node_answer_t send_to_fake(const char *response, long timeout_ms) {
    fake_node_t fn;
    fake_node_start(&fn, response);
    node_answer_t a = send_to(fn.port, timeout_ms);
    fake_node_stop(&fn);
    return a;
}

START_TEST(test_transport_unreachable) {
    /* A port that was just free: nothing listens there. */
    fake_node_t fn;
    fake_node_start(&fn, "");
    int port = fn.port;
    shutdown(fn.listen_fd, SHUT_RDWR);
    close(fn.listen_fd);
    pthread_join(fn.thread, NULL);
    node_answer_t a = send_to(port, 1000);
    ck_assert_int_eq(a.outcome, NODE_ANSWER_TRANSPORT);
    ck_assert_str_eq(a.reason, "unreachable");
}
END_TEST

/* HTTP errors, a body that is not JSON, and an answer that never comes
 * (response NULL: the fake node holds the connection past the timeout). */
START_TEST(test_transport_failures) {
    static const struct {
        const char *response;
        long timeout_ms;
        const char *reason;
    } cases[] = {
        {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy",
         2000, "http_5xx"},
        {"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 2000,
         "http_error"},
        {"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n"
         "Connection: close\r\n\r\n<html></html>",
         2000, "bad_answer"},
        {NULL, 300, "timeout"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        node_answer_t a = send_to_fake(cases[i].response, cases[i].timeout_ms);
        ck_assert_int_eq(a.outcome, NODE_ANSWER_TRANSPORT);
        ck_assert_str_eq(a.reason, cases[i].reason);
    }
}
END_TEST

/* A batch the node answered only in part: answered calls keep their own
 * classification, the others are transport failures. */
START_TEST(test_partial_batch) {
    static const char body[] =
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32003,\"message\":\"nonce too low\"}}]";
    char response[512];
    snprintf(response, sizeof(response),
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             strlen(body), body);
    fake_node_t fn;
    fake_node_start(&fn, response);
    node_answer_t a[2];
    ck_assert_int_eq(send_two(fn.port, 2000, a), TXL_ERPC);
    ck_assert_int_eq(a[0].outcome, NODE_ANSWER_TRANSPORT);
    ck_assert_int_eq(a[1].outcome, NODE_ANSWER_NONCE_TOO_LOW);
    fake_node_stop(&fn);
}
END_TEST

static Suite *node_answer_suite(void) {
    Suite *s = suite_create("node_answer");
    TCase *tc = tcase_create("classify");
    tcase_add_test(tc, test_recorded_answers);
    tcase_add_test(tc, test_case_and_substring);
    tcase_add_test(tc, test_actions);
    suite_add_tcase(s, tc);
    TCase *tt = tcase_create("transport");
    tcase_set_timeout(tt, 20);
    tcase_add_test(tt, test_transport_unreachable);
    tcase_add_test(tt, test_transport_failures);
    tcase_add_test(tt, test_partial_batch);
    suite_add_tcase(s, tt);
    return s;
}

int main(void) {
    return unit_run(node_answer_suite());
}
