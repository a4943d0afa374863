/*
 * reqout.c - requests the watcher asks the allocator for (top-ups, sweeps,
 * re-allocations) go to txlane.requests on the partition that owns the lane
 * they concern (lane mod P), so that only the allocator owning the lane
 * allocates them. Each one is recorded in PostgreSQL before it is produced
 * and produced again until the allocator has acted on it: delivery is not
 * waited for here.
 */
#include <string.h>

#include "txlane/kafka.h"
#include "txlane/log.h"
#include "watcher.h"

static int watch_request_partitions(watcher_t *w) {
    static int partitions;
    if (partitions > 0)
        return partitions;
    int p = kafka_topic_partitions(producer_handle(w->producer), w->cfg->common.topic_requests,
                                   5000);
    if (p <= 0) {
        log_warn("could not read the requests topic's partitions",
                 LF_S("topic", w->cfg->common.topic_requests));
        return -1;
    }
    partitions = p;
    return p;
}

int watch_request_send(watcher_t *w, const char *key, const char *payload, int lane) {
    int p = watch_request_partitions(w);
    if (p <= 0 || lane < 0)
        return TXL_EKAFKA;
    return producer_send(w->producer, w->cfg->common.topic_requests, key, strlen(key), payload,
                         strlen(payload), lane % p);
}
