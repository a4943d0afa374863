/*
 * cmd_submit.c - `txlane submit`: produces payout requests to the requests
 * topic (DESIGN section 3), keyed by request_id, in one of three ways:
 *
 *   one request from flags       --to ADDR --value AMOUNT [...]
 *   a JSON-lines file            --file payouts.jsonl (each line sent as is)
 *   generated load               --count N --random-recipients [--rate R]
 *
 * A request built from flags is checked with payout.h before anything is
 * sent, so a bad --to fails at once (exit 2). File lines are the producer's
 * own bytes: they go out unchanged (the allocator validates and
 * dead-letters), with a warning for the ones payout.h rejects. A pinned lane
 * goes to partition lane mod P of the topic: the allocator owning that
 * partition owns the lane and rejects a pinned request anywhere else.
 *
 * "Accepted" means the broker acknowledged the message (producer.h delivery
 * reports). The command waits for every report; it gives up when nothing was
 * acknowledged for --timeout seconds (then exit 1: re-submitting the same
 * request ids is safe, they are idempotency keys). Progress goes to stderr
 * once a second.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "ctl.h"
#include "txlane/address.h"
#include "txlane/jbuf.h"
#include "txlane/kafka.h"
#include "txlane/payout.h"
#include "txlane/producer.h"
#include "txlane/service.h"
#include "txlane/uint256.h"
#include "txlane/xmalloc.h"

static const char submit_usage[] =
    "usage: txlane submit --to ADDR --value AMOUNT [--request-id ID] [--token ADDR]\n"
    "                     [--data 0x...] [--gas-limit N] [--lane I] [--metadata JSON]\n"
    "       txlane submit --file FILE            (one request JSON per line; - for stdin)\n"
    "       txlane submit --count N (--random-recipients | --to ADDR) [--value AMOUNT]\n"
    "                     [--prefix P] [--rate R] [--token/--data/--gas-limit/--lane/--metadata]\n"
    "options for every form: [--timeout SECONDS] [--quiet]\n"
    "\n"
    "Produces payout requests to TXLANE_TOPIC_REQUESTS, keyed by request_id, and prints how\n"
    "many the broker accepted and the rate. AMOUNT is wei, or a decimal with a unit:\n"
    "1.5eth, 20gwei, 7wei. A request from flags gets the request id cli-<time>-<random>\n"
    "unless --request-id is given; it is printed, for 'txlane status'.\n"
    "--file sends each non-blank line unchanged (the allocator validates it and\n"
    "dead-letters what is invalid; lines this command finds invalid are reported as\n"
    "warnings). --count generates N requests with ids P-1..P-N (P defaults to\n"
    "load-<time>-<random>) to fresh random recipients (or to --to), value --value\n"
    "(default 1 wei), at most R per second with --rate.\n"
    "A pinned lane (--lane, or \"lane\" in a line) goes to partition lane mod P of the topic.\n"
    "--timeout: give up when the broker has acknowledged nothing for this long (default\n"
    "60; 0 waits forever). --quiet: no progress lines on stderr.\n"
    "Exit status: 0 every request accepted, 1 some not accepted (or Kafka unreachable),\n"
    "2 bad arguments (nothing sent).\n";

static const cfg_option_t submit_options[] = {
    CTL_OPT_LOG_LEVEL,
    CTL_OPT_TOPIC_REQUESTS,
    CTL_OPT_REQUEST_LIMITS,
    CFG_END,
};

typedef struct {
    const char *to, *value, *request_id, *token, *data, *gas_limit, *metadata, *file, *prefix;
    long long lane; /* -1: not pinned */
    long long count; /* 0: not generating */
    int random_recipients;
    double rate; /* requests/s; 0: unthrottled */
    long long timeout_s;
    int quiet;
    char value_dec[UINT256_DEC_BUF];
} submit_args_t;

typedef struct {
    producer_t *p;
    rd_kafka_t *rk;
    const char *topic;
    int partitions;
    long long start_ms, last_report_ms, last_ack_ms;
    size_t queued, not_queued, last_outstanding;
    int quiet;
} submit_run_t;

static volatile sig_atomic_t submit_stop = 0;

/* First SIGINT/SIGTERM/SIGALRM: stop sending and give up waiting (producer.h
 * then keeps delivering for a grace period). A second SIGINT/SIGTERM: exit. */
static void submit_on_signal(int sig) {
    if (submit_stop && sig != SIGALRM)
        _exit(130);
    submit_stop = 1;
    service_stop();
}

/* Parses AMOUNT: wei (decimal or 0x hex), or a decimal with a unit wei, gwei,
 * eth or ether (e.g. 1.5eth). Writes the decimal wei. 0 or -1. */
static int submit_parse_amount(const char *s, char out[UINT256_DEC_BUF]) {
    static const struct {
        const char *unit;
        int decimals;
    } units[] = {{"wei", 0}, {"gwei", 9}, {"eth", 18}, {"ether", 18}};
    uint256_t v;
    size_t len = strlen(s), num_len = len;
    int decimals = 0;
    while (num_len > 0 && ((s[num_len - 1] >= 'a' && s[num_len - 1] <= 'z') ||
                           (s[num_len - 1] >= 'A' && s[num_len - 1] <= 'Z')))
        num_len--;
    if (num_len == len || (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
        if (uint256_parse(s, &v) != 0)
            return -1;
        uint256_format_dec(&v, out);
        return 0;
    }
    size_t k = 0;
    for (; k < sizeof(units) / sizeof(units[0]); k++) {
        if (strcasecmp(s + num_len, units[k].unit) == 0)
            break;
    }
    if (k == sizeof(units) / sizeof(units[0]) || num_len == 0 || num_len >= UINT256_DEC_BUF)
        return -1;
    decimals = units[k].decimals;
    char digits[UINT256_DEC_BUF];
    size_t nd = 0;
    int frac = -1;
    for (size_t i = 0; i < num_len; i++) {
        if (s[i] == '.' && frac < 0 && i > 0 && i + 1 < num_len) {
            frac = 0;
        } else if (s[i] >= '0' && s[i] <= '9') {
            digits[nd++] = s[i];
            if (frac >= 0)
                frac++;
        } else {
            return -1;
        }
    }
    digits[nd] = '\0';
    if (frac > decimals || uint256_parse_dec(digits, &v) != 0)
        return -1;
    for (int i = frac < 0 ? 0 : frac; i < decimals; i++) {
        if (uint256_mul_u64(&v, 10, &v) != 0)
            return -1;
    }
    uint256_format_dec(&v, out);
    return 0;
}

/* Writes one request from the flags into j (reset first). */
static void submit_build(jbuf_t *j, const submit_args_t *a, const char *request_id,
                         const char *to) {
    jbuf_reset(j);
    jbuf_obj_begin(j);
    jbuf_key_str(j, "request_id", request_id);
    jbuf_key_str(j, "to", to);
    jbuf_key_str(j, "value_wei", a->value_dec);
    if (a->token != NULL)
        jbuf_key_str(j, "token", a->token);
    if (a->data != NULL)
        jbuf_key_str(j, "data", a->data);
    if (a->gas_limit != NULL)
        jbuf_key_str(j, "gas_limit", a->gas_limit);
    if (a->lane >= 0)
        jbuf_key_u64(j, "lane", (uint64_t)a->lane);
    if (a->metadata != NULL) {
        jbuf_key(j, "metadata");
        jbuf_raw(j, a->metadata, strlen(a->metadata));
    }
    jbuf_obj_end(j);
}

static void submit_random_address(char out[ADDRESS_STR_LEN + 1]) {
    eth_address_t a;
    size_t got = 0;
    while (got < sizeof(a.b)) {
        ssize_t n = getrandom(a.b + got, sizeof(a.b) - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    address_format(&a, out);
}

static unsigned submit_random_u32(void) {
    unsigned v = 0;
    while (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
    }
    return v;
}

/* Checks one request built from flags with the allocator's rules. 0 or 2. */
static int submit_validate(const jbuf_t *j, const ctl_env_t *env) {
    payout_limits_t limits = {(uint64_t)env->gas_limit_max, (int)env->lanes};
    payout_request_t req;
    char detail[256];
    payout_reject_t r = payout_request_parse(j->buf, j->len, &limits, &req, detail,
                                             sizeof(detail));
    payout_request_free(&req);
    if (r != PAYOUT_OK)
        return ctl_usage_error("submit", "invalid request: %s (%s)", detail,
                               payout_reject_code(r));
    return 0;
}

static void submit_progress(submit_run_t *run, int force) {
    long long now = service_now_ms();
    size_t outstanding = producer_outstanding(run->p);
    if (outstanding != run->last_outstanding) {
        run->last_outstanding = outstanding;
        run->last_ack_ms = now;
    }
    if (run->quiet || (!force && now - run->last_report_ms < 1000))
        return;
    run->last_report_ms = now;
    double secs = (double)(now - run->start_ms) / 1000.0;
    size_t acked = run->queued - outstanding;
    fprintf(stderr, "txlane submit: %zu queued, %zu accepted (%.0f/s), %zu awaiting the broker\n",
            run->queued, acked, secs > 0 ? (double)acked / secs : 0.0, outstanding);
}

/* 1 when nothing was acknowledged for timeout_s while messages wait. */
static int submit_stalled(const submit_run_t *run, long long timeout_s) {
    return timeout_s > 0 && producer_outstanding(run->p) > 0 &&
           service_now_ms() - run->last_ack_ms > timeout_s * 1000;
}

/* Queues one message; keeps librdkafka's queue bounded so that a stop or a
 * stall is noticed here rather than inside producer_send. 0, or -1 to stop. */
static int submit_send(submit_run_t *run, const submit_args_t *a, const char *key,
                       const char *value, size_t len, long long lane) {
    while (rd_kafka_outq_len(run->rk) > 50000 && !submit_stop) {
        rd_kafka_poll(run->rk, 100);
        submit_progress(run, 0);
        if (submit_stalled(run, a->timeout_s)) {
            fprintf(stderr, "txlane submit: the broker acknowledged nothing for %lld s\n",
                    a->timeout_s);
            return -1;
        }
    }
    if (submit_stop)
        return -1;
    int32_t partition = lane >= 0 ? (int32_t)(lane % run->partitions) : RD_KAFKA_PARTITION_UA;
    if (producer_send(run->p, run->topic, key, key != NULL ? strlen(key) : 0, value, len,
                      partition) != 0) {
        run->not_queued++;
        if (kafka_fatal)
            return -1;
    } else {
        run->queued++;
    }
    if ((run->queued & 1023) == 0) {
        rd_kafka_poll(run->rk, 0);
        submit_progress(run, 0);
    }
    return 0;
}

/* Sleeps until message i may go out under --rate, serving delivery reports. */
static void submit_throttle(submit_run_t *run, double rate, long long i) {
    if (rate <= 0)
        return;
    long long due = run->start_ms + (long long)((double)i * 1000.0 / rate);
    for (long long now = service_now_ms(); now < due && !submit_stop; now = service_now_ms()) {
        rd_kafka_poll(run->rk, (int)(due - now < 100 ? due - now : 100));
        submit_progress(run, 0);
    }
}

static int submit_from_flags(submit_run_t *run, const submit_args_t *a, jbuf_t *j) {
    char id[PAYOUT_REQUEST_ID_MAX + 1];
    char to[ADDRESS_STR_LEN + 1];
    if (a->count == 0) {
        if (submit_send(run, a, a->request_id, j->buf, j->len, a->lane) != 0)
            return -1;
        printf("request_id %s\n", a->request_id);
        return 0;
    }
    long long n = 1;
    int rc = 0;
    for (; n <= a->count && rc == 0; n++) {
        snprintf(id, sizeof(id), "%s-%lld", a->prefix, n);
        if (a->random_recipients)
            submit_random_address(to);
        submit_build(j, a, id, a->random_recipients ? to : a->to);
        submit_throttle(run, a->rate, n - 1);
        rc = submit_send(run, a, id, j->buf, j->len, a->lane);
    }
    /* the ids handed to the producer (all of them unless stopped early) */
    if (run->queued > 0)
        printf("request ids %s-1 .. %s-%lld\n", a->prefix, a->prefix, rc == 0 ? n - 1 : n - 2);
    return rc;
}

static int submit_from_file(submit_run_t *run, const submit_args_t *a) {
    FILE *f = strcmp(a->file, "-") == 0 ? stdin : fopen(a->file, "r");
    if (f == NULL) {
        fprintf(stderr, "txlane submit: cannot open %s\n", a->file);
        return -1;
    }
    /* generous limits: whether a lane or gas limit is acceptable is the
     * allocator's call; here the parse finds the key and the pinned lane */
    payout_limits_t limits = {UINT64_MAX, 2147483647};
    char *line = NULL;
    size_t cap = 0, lineno = 0, invalid = 0;
    ssize_t len;
    int rc = 0;
    while (!submit_stop && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        size_t blank = 0;
        while (blank < (size_t)len && line[blank] != '\0' && strchr(" \t\r\f\v", line[blank]))
            blank++;
        if (blank == (size_t)len)
            continue;
        payout_request_t req;
        char detail[256];
        payout_reject_t r = payout_request_parse(line, (size_t)len, &limits, &req, detail,
                                                 sizeof(detail));
        if (r != PAYOUT_OK && ++invalid <= 10)
            fprintf(stderr, "txlane submit: warning: line %zu: %s (%s); sent as is\n", lineno,
                    detail, payout_reject_code(r));
        submit_throttle(run, a->rate, (long long)(run->queued + run->not_queued));
        rc = submit_send(run, a, r == PAYOUT_OK ? req.request_id : NULL, line, (size_t)len,
                         r == PAYOUT_OK ? req.lane : -1);
        payout_request_free(&req);
        if (rc != 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "txlane submit: error reading %s at line %zu\n", a->file, lineno + 1);
        rc = -1;
    }
    if (invalid > 10)
        fprintf(stderr, "txlane submit: warning: %zu lines are not valid requests\n", invalid);
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* Waits for every delivery report; returns 0 when all were accepted. */
static int submit_wait(submit_run_t *run, const submit_args_t *a) {
    run->last_ack_ms = service_now_ms();
    while (!submit_stop && producer_outstanding(run->p) > 0 && rd_kafka_outq_len(run->rk) > 0) {
        rd_kafka_poll(run->rk, 100);
        submit_progress(run, 0);
        if (submit_stalled(run, a->timeout_s)) {
            fprintf(stderr, "txlane submit: the broker acknowledged nothing for %lld s\n",
                    a->timeout_s);
            submit_stop = 1;
            service_stop();
        }
    }
    /* what is left: failed deliveries producer_flush sends again; bound that
     * by the same timeout */
    if (!submit_stop && a->timeout_s > 0 && producer_outstanding(run->p) > 0)
        alarm((unsigned)a->timeout_s);
    int rc = producer_flush(run->p);
    alarm(0);
    return rc;
}

static int submit_run(const submit_args_t *a, const ctl_env_t *env, jbuf_t *j) {
    char errstr[512];
    submit_run_t run;
    memset(&run, 0, sizeof(run));
    run.topic = env->topic_requests;
    run.quiet = a->quiet;
    run.p = producer_new("txlane-submit", errstr, sizeof(errstr));
    if (run.p == NULL) {
        fprintf(stderr, "txlane submit: %s\n", errstr);
        return 2;
    }
    run.rk = producer_handle(run.p);
    run.partitions = kafka_topic_partitions(run.rk, run.topic, (int)env->kafka_timeout_ms);
    if (run.partitions <= 0) {
        if (run.partitions == TXL_ENOTFOUND)
            fprintf(stderr, "txlane submit: topic %s does not exist (see 'txlane topics')\n",
                    run.topic);
        else
            fprintf(stderr, "txlane submit: could not read the metadata of %s: is Kafka "
                            "reachable?\n", run.topic);
        producer_free(run.p);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = submit_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);

    run.start_ms = run.last_report_ms = run.last_ack_ms = service_now_ms();
    int rc = a->file != NULL ? submit_from_file(&run, a) : submit_from_flags(&run, a, j);
    int flushed = submit_wait(&run, a);
    long long ms = service_now_ms() - run.start_ms;
    size_t outstanding = producer_outstanding(run.p);
    size_t accepted = run.queued - outstanding;
    size_t total = run.queued + run.not_queued;
    if (run.queued >= 10000 || ms >= 2000)
        submit_progress(&run, 1);
    printf("accepted %zu of %zu request(s) in %.2f s (%.0f/s) on %s\n", accepted, total,
           (double)ms / 1000.0, ms > 0 ? (double)accepted * 1000.0 / (double)ms : 0.0,
           run.topic);
    if (flushed != 0 || outstanding > 0)
        fprintf(stderr,
                "txlane submit: %zu request(s) without a delivery report (they may still reach "
                "the topic; submitting the same request ids again is safe)\n",
                outstanding);
    if (run.not_queued > 0)
        fprintf(stderr, "txlane submit: %zu request(s) could not be queued (see the log above)\n",
                run.not_queued);
    if (rc != 0 && submit_stop)
        fprintf(stderr, "txlane submit: interrupted\n");
    if (total == 0 && rc == 0)
        fprintf(stderr, "txlane submit: warning: %s holds no request\n", a->file);
    producer_free(run.p);
    return rc == 0 && flushed == 0 && accepted == total ? 0 : 1;
}

/* Checks the combination of flags; fills the defaults. 0 or 2. */
static int submit_check_args(submit_args_t *a) {
    if (a->file != NULL) {
        if (a->to || a->value || a->request_id || a->token || a->data || a->gas_limit ||
            a->metadata || a->prefix || a->lane >= 0 || a->count || a->random_recipients)
            return ctl_usage_error("submit", "--file takes no request flags (only --rate, "
                                             "--timeout, --quiet)");
        return 0;
    }
    if (a->count == 0 && (a->random_recipients || a->prefix || a->rate > 0))
        return ctl_usage_error("submit", "--random-recipients, --prefix and --rate go with "
                                         "--count or --file");
    if (a->count > 0) {
        if (a->random_recipients == (a->to != NULL))
            return ctl_usage_error("submit", "--count needs one of --random-recipients and --to");
        if (a->request_id != NULL)
            return ctl_usage_error("submit", "--count names its requests with --prefix, not "
                                             "--request-id");
        if (a->value == NULL)
            a->value = "1";
    } else if (a->to == NULL || a->value == NULL) {
        return ctl_usage_error("submit", "give --to and --value, --file, or --count");
    }
    if (submit_parse_amount(a->value, a->value_dec) != 0)
        return ctl_usage_error("submit", "--value must be wei below 2^256, or a decimal with a "
                                         "unit wei, gwei or eth (e.g. 1.5eth)");
    if (a->metadata != NULL) {
        char err[128];
        yajl_val v = yajl_tree_parse(a->metadata, err, sizeof(err));
        int ok = v != NULL && YAJL_IS_OBJECT(v);
        yajl_tree_free(v);
        if (!ok)
            return ctl_usage_error("submit", "--metadata must be a JSON object");
    }
    if (a->prefix != NULL && (a->prefix[0] == '\0' || strlen(a->prefix) > 100))
        return ctl_usage_error("submit", "--prefix must have 1 to 100 characters");
    return 0;
}

int cmd_submit(int argc, char **argv) {
    enum {
        OPT_TO = 1, OPT_VALUE, OPT_REQUEST_ID, OPT_TOKEN, OPT_DATA, OPT_GAS_LIMIT, OPT_LANE,
        OPT_METADATA, OPT_FILE, OPT_COUNT, OPT_RANDOM, OPT_PREFIX, OPT_RATE, OPT_TIMEOUT,
        OPT_QUIET, OPT_HELP, OPT_COUNT_,
    };
    static const struct option opts[] = {
        {"to", required_argument, NULL, OPT_TO},
        {"value", required_argument, NULL, OPT_VALUE},
        {"request-id", required_argument, NULL, OPT_REQUEST_ID},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"data", required_argument, NULL, OPT_DATA},
        {"gas-limit", required_argument, NULL, OPT_GAS_LIMIT},
        {"lane", required_argument, NULL, OPT_LANE},
        {"metadata", required_argument, NULL, OPT_METADATA},
        {"file", required_argument, NULL, OPT_FILE},
        {"count", required_argument, NULL, OPT_COUNT},
        {"random-recipients", no_argument, NULL, OPT_RANDOM},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"rate", required_argument, NULL, OPT_RATE},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    submit_args_t a;
    memset(&a, 0, sizeof(a));
    a.lane = -1;
    a.timeout_s = 60;
    int seen[OPT_COUNT_] = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c <= 0 || c >= OPT_COUNT_)
            return ctl_usage_error("submit", "unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        if (seen[c]++)
            return ctl_usage_error("submit", "option '%s' given twice", argv[optind - 1]);
        switch (c) {
        case OPT_TO:
            a.to = optarg;
            break;
        case OPT_VALUE:
            a.value = optarg;
            break;
        case OPT_REQUEST_ID:
            a.request_id = optarg;
            break;
        case OPT_TOKEN:
            a.token = optarg;
            break;
        case OPT_DATA:
            a.data = optarg;
            break;
        case OPT_GAS_LIMIT:
            a.gas_limit = optarg;
            break;
        case OPT_METADATA:
            a.metadata = optarg;
            break;
        case OPT_FILE:
            a.file = optarg;
            break;
        case OPT_PREFIX:
            a.prefix = optarg;
            break;
        case OPT_RANDOM:
            a.random_recipients = 1;
            break;
        case OPT_QUIET:
            a.quiet = 1;
            break;
        case OPT_HELP:
            return ctl_help(submit_usage, submit_options);
        case OPT_LANE:
            if (ctl_parse_ll(optarg, 0, 2147483647, &a.lane) != 0)
                return ctl_usage_error("submit", "--lane must be a decimal from 0 to 2147483647");
            break;
        case OPT_COUNT:
            if (ctl_parse_ll(optarg, 1, 1000000000, &a.count) != 0)
                return ctl_usage_error("submit", "--count must be a decimal from 1 to 10^9");
            break;
        case OPT_TIMEOUT:
            if (ctl_parse_ll(optarg, 0, 86400, &a.timeout_s) != 0)
                return ctl_usage_error("submit", "--timeout must be seconds from 0 to 86400");
            break;
        case OPT_RATE: {
            char *end = NULL;
            a.rate = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(a.rate > 0 && a.rate <= 1e7))
                return ctl_usage_error("submit", "--rate must be requests per second in (0, 1e7]");
            break;
        }
        default:
            return ctl_usage_error("submit", "unknown option or missing value: '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc)
        return ctl_usage_error("submit", "unexpected argument '%s'", argv[optind]);
    int rc = submit_check_args(&a);
    if (rc != 0)
        return rc;

    ctl_env_t env;
    jbuf_t j;
    jbuf_init(&j);
    char id[PAYOUT_REQUEST_ID_MAX + 1], prefix[80], sample_to[ADDRESS_STR_LEN + 1];
    rc = ctl_env_load("submit", submit_options, &env, 1);
    if (rc >= 0)
        goto done;
    if (a.file == NULL) {
        if (a.count > 0 && a.prefix == NULL) {
            snprintf(prefix, sizeof(prefix), "load-%lld-%06x", (long long)time(NULL),
                     submit_random_u32() & 0xffffff);
            a.prefix = prefix;
        }
        if (a.count == 0 && a.request_id == NULL) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            snprintf(id, sizeof(id), "cli-%lld%03ld-%08x", (long long)ts.tv_sec,
                     ts.tv_nsec / 1000000, submit_random_u32());
            a.request_id = id;
        }
        /* the longest generated id and a sample recipient stand for all of them */
        if (a.count > 0)
            snprintf(id, sizeof(id), "%s-%lld", a.prefix, a.count);
        if (a.random_recipients)
            submit_random_address(sample_to);
        submit_build(&j, &a, a.count > 0 ? id : a.request_id,
                     a.random_recipients ? sample_to : a.to);
        rc = submit_validate(&j, &env);
        if (rc != 0)
            goto done;
    }
    rc = submit_run(&a, &env, &j);
done:
    jbuf_free(&j);
    ctl_env_free(submit_options, &env);
    return rc;
}
