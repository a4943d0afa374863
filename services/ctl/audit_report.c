/*
 * audit_report.c - the audit's findings and how they are printed (see
 * audit.h): per check a status, a summary of what was checked, notes, the
 * number of violations and up to examples_max of them. Text for people, one
 * JSON object with --json.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "audit.h"
#include "txlane/jbuf.h"
#include "txlane/xmalloc.h"

static const struct {
    const char *id;
    const char *title;
} audit_titles[AUDIT_CHECKS] = {
    [AUDIT_C1_REQUESTS] = {"1", "one transaction per request; every request reaches a terminal "
                                "state"},
    [AUDIT_C2_NONCES] = {"2", "per lane, nonces are exactly [first_nonce, next_nonce): no hole, "
                              "no repeat"},
    [AUDIT_C3_ATTEMPTS] = {"3", "all attempts of a transaction carry its payout or a no-op"},
    [AUDIT_C4_USED] = {"4", "every allocated nonce is used on chain"},
    [AUDIT_C5_DLQ] = {"5", "every invalid request is in the dead-letter topic"},
    [AUDIT_C6_FORWARD] = {"6", "states only move forward (confirmed -> submitted on a reorg)"},
    [AUDIT_C7A_MINED] = {"7a", "per lane, mined nonce count = first_nonce + confirmed + "
                               "cancelled + external"},
    [AUDIT_C7B_RECEIPTS] = {"7b", "confirmed and cancelled transactions are on chain as "
                                  "recorded"},
    [AUDIT_C7C_RECIPIENTS] = {"7c", "recipients hold what their confirmed payouts say"},
};

void audit_init(audit_t *a) {
    memset(a, 0, sizeof(*a));
    a->examples_max = 5;
    for (int c = 0; c < AUDIT_CHECKS; c++) {
        a->checks[c].id = audit_titles[c].id;
        a->checks[c].title = audit_titles[c].title;
    }
}

void audit_free(audit_t *a) {
    for (int c = 0; c < AUDIT_CHECKS; c++) {
        audit_check_t *k = &a->checks[c];
        for (size_t i = 0; i < k->n_examples; i++)
            free(k->examples[i]);
        for (size_t i = 0; i < k->n_notes; i++)
            free(k->notes[i]);
        free(k->examples);
        free(k->notes);
        free(k->summary);
    }
    free(a->lanes);
    a->lanes = NULL;
}

static char *audit_vformat(const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    char *s = xmalloc((size_t)(n > 0 ? n : 0) + 1);
    vsnprintf(s, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
    return s;
}

static void audit_push(char ***list, size_t *n, char *s) {
    *list = xrealloc(*list, (*n + 1) * sizeof(char *));
    (*list)[(*n)++] = s;
}

void audit_fail(audit_t *a, audit_check_id_t c, const char *fmt, ...) {
    audit_check_t *k = &a->checks[c];
    k->violations++;
    if (k->n_examples >= a->examples_max)
        return;
    va_list ap;
    va_start(ap, fmt);
    audit_push(&k->examples, &k->n_examples, audit_vformat(fmt, ap));
    va_end(ap);
}

static void audit_vnote(audit_check_t *k, const char *fmt, va_list ap) {
    audit_push(&k->notes, &k->n_notes, audit_vformat(fmt, ap));
}

static void audit_vsummary(audit_check_t *k, const char *fmt, va_list ap) {
    free(k->summary);
    k->summary = audit_vformat(fmt, ap);
}

void audit_note(audit_t *a, audit_check_id_t c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    audit_vnote(&a->checks[c], fmt, ap);
    va_end(ap);
}

void audit_summary(audit_t *a, audit_check_id_t c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    audit_vsummary(&a->checks[c], fmt, ap);
    va_end(ap);
}

void audit_error(audit_t *a, audit_check_id_t c, const char *fmt, ...) {
    va_list ap;
    a->checks[c].error = 1;
    va_start(ap, fmt);
    audit_vnote(&a->checks[c], fmt, ap);
    va_end(ap);
}

void audit_skip(audit_t *a, audit_check_id_t c, const char *fmt, ...) {
    va_list ap;
    a->checks[c].skipped = 1;
    va_start(ap, fmt);
    audit_vsummary(&a->checks[c], fmt, ap);
    va_end(ap);
}

void audit_examples_json(audit_t *a, audit_check_id_t c, const char *json) {
    audit_check_t *k = &a->checks[c];
    char err[128];
    if (json == NULL || json[0] == '\0')
        return;
    yajl_val v = yajl_tree_parse(json, err, sizeof(err));
    if (v != NULL && YAJL_IS_ARRAY(v)) {
        for (size_t i = 0; i < v->u.array.len && k->n_examples < a->examples_max; i++) {
            yajl_val e = v->u.array.values[i];
            if (YAJL_IS_STRING(e))
                audit_push(&k->examples, &k->n_examples, xstrdup(YAJL_GET_STRING(e)));
        }
    }
    yajl_tree_free(v);
}

void audit_count(audit_t *a, audit_check_id_t c, unsigned long long violations) {
    a->checks[c].violations += violations;
}

audit_status_t audit_status(const audit_t *a, audit_check_id_t c) {
    const audit_check_t *k = &a->checks[c];
    if (k->error)
        return AUDIT_ERROR;
    if (k->violations > 0)
        return AUDIT_FAIL;
    if (k->skipped)
        return AUDIT_SKIP;
    return AUDIT_PASS;
}

static const char *const audit_status_names[] = {"PASS", "FAIL", "SKIP", "ERROR"};

static void audit_print_text(const audit_t *a, int ok, int failed) {
    printf("txlane audit: database %s", PQdb(a->conn));
    if (a->rpc != NULL)
        printf(", chain %llu at block %llu", a->chain_id, a->block);
    else if (!a->db_only)
        printf(", node unreachable");
    printf("%s\n\n", a->final ? " (--final)" : "");
    for (int c = 0; c < AUDIT_CHECKS; c++) {
        const audit_check_t *k = &a->checks[c];
        audit_status_t st = audit_status(a, (audit_check_id_t)c);
        printf("[%s] %-3s %s\n", audit_status_names[st], k->id, k->title);
        if (k->summary != NULL)
            printf("           %s\n", k->summary);
        for (size_t i = 0; i < k->n_notes; i++)
            printf("           note: %s\n", k->notes[i]);
        if (k->violations > 0)
            printf("           %llu violation(s)%s\n", k->violations,
                   k->violations > k->n_examples ? ", for example:" : ":");
        for (size_t i = 0; i < k->n_examples; i++)
            printf("             - %s\n", k->examples[i]);
    }
    if (ok)
        printf("\nresult: PASS (every invariant holds)\n");
    else
        printf("\nresult: FAIL (%d check(s) failed or could not run)\n", failed);
}

static void audit_print_json(const audit_t *a, int ok) {
    jbuf_t j;
    jbuf_init(&j);
    jbuf_obj_begin(&j);
    jbuf_key(&j, "ok");
    jbuf_bool(&j, ok);
    jbuf_key_str(&j, "database", PQdb(a->conn));
    jbuf_key(&j, "final");
    jbuf_bool(&j, a->final);
    if (a->rpc != NULL) {
        jbuf_key_u64(&j, "chain_id", a->chain_id);
        jbuf_key_u64(&j, "block", a->block);
    }
    jbuf_key(&j, "checks");
    jbuf_arr_begin(&j);
    for (int c = 0; c < AUDIT_CHECKS; c++) {
        const audit_check_t *k = &a->checks[c];
        jbuf_obj_begin(&j);
        jbuf_key_str(&j, "invariant", k->id);
        jbuf_key_str(&j, "title", k->title);
        char status[8];
        snprintf(status, sizeof(status), "%s", audit_status_names[audit_status(a, c)]);
        for (char *p = status; *p; p++)
            *p = (char)(*p - 'A' + 'a');
        jbuf_key_str(&j, "status", status);
        jbuf_key(&j, "summary");
        if (k->summary != NULL)
            jbuf_str(&j, k->summary);
        else
            jbuf_null(&j);
        jbuf_key_u64(&j, "violations", k->violations);
        jbuf_key(&j, "notes");
        jbuf_arr_begin(&j);
        for (size_t i = 0; i < k->n_notes; i++)
            jbuf_str(&j, k->notes[i]);
        jbuf_arr_end(&j);
        jbuf_key(&j, "examples");
        jbuf_arr_begin(&j);
        for (size_t i = 0; i < k->n_examples; i++)
            jbuf_str(&j, k->examples[i]);
        jbuf_arr_end(&j);
        jbuf_obj_end(&j);
    }
    jbuf_arr_end(&j);
    jbuf_obj_end(&j);
    puts(j.buf);
    jbuf_free(&j);
}

int audit_report_print(const audit_t *a, int json) {
    int failed = 0;
    for (int c = 0; c < AUDIT_CHECKS; c++) {
        audit_status_t st = audit_status(a, (audit_check_id_t)c);
        failed += st == AUDIT_FAIL || st == AUDIT_ERROR;
    }
    if (json)
        audit_print_json(a, failed == 0);
    else
        audit_print_text(a, failed == 0, failed);
    fflush(stdout);
    return failed == 0;
}
