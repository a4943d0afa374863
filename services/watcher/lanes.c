/*
 * lanes.c - the lane addresses the watcher looks for in blocks: a sorted
 * array of (address, lane id) loaded from the lanes table, searched for the
 * sender of every transaction of every block.
 *
 * Lanes are only ever added (an address never changes its id), so the set
 * is reloaded when the table's row count changed. The follower refreshes it
 * after fetching a range's blocks and before reading their senders: a lane
 * row is committed before any transaction of it can be mined, so every lane
 * that could appear in the fetched blocks is known.
 */
#include <stdlib.h>
#include <string.h>

#include "txlane/log.h"
#include "txlane/xmalloc.h"
#include "watcher.h"

static int watch_lane_cmp(const void *a, const void *b) {
    return memcmp(((const watch_lane_t *)a)->address.b, ((const watch_lane_t *)b)->address.b,
                  sizeof(((const watch_lane_t *)a)->address.b));
}

int32_t watch_lane_find(const watcher_t *w, const eth_address_t *address) {
    watch_lane_t key = {.address = *address, .lane_id = -1};
    const watch_lane_t *hit = w->n_lanes == 0 ? NULL
                                              : bsearch(&key, w->lanes, w->n_lanes,
                                                        sizeof(watch_lane_t), watch_lane_cmp);
    return hit != NULL ? hit->lane_id : -1;
}

int watch_lane_filter(const eth_address_t *from, void *ctx) {
    return watch_lane_find(ctx, from) >= 0;
}

static int watch_lanes_load(watcher_t *w) {
    PGresult *res = watch_query(w, "load lanes", "SELECT id, address FROM lanes ORDER BY id", 0,
                                NULL);
    if (res == NULL)
        return TXL_EDB;
    size_t n = (size_t)PQntuples(res), kept = 0;
    watch_lane_t *lanes = xcalloc(n > 0 ? n : 1, sizeof(watch_lane_t));
    for (size_t i = 0; i < n; i++) {
        const char *addr = PQgetvalue(res, (int)i, 1);
        if (address_parse(addr, &lanes[kept].address) != 0) {
            log_error("lane with an invalid address ignored",
                      LF_S("lane", PQgetvalue(res, (int)i, 0)), LF_S("address", addr));
            continue;
        }
        lanes[kept++].lane_id = (int32_t)strtol(PQgetvalue(res, (int)i, 0), NULL, 10);
    }
    PQclear(res);
    qsort(lanes, kept, sizeof(watch_lane_t), watch_lane_cmp);
    free(w->lanes);
    w->lanes = lanes;
    w->n_lanes = kept;
    w->lanes_count = (long long)n;
    log_info("lanes loaded", LF_U("lanes", kept));
    return 0;
}

int watch_lanes_refresh(watcher_t *w) {
    PGresult *res = watch_query(w, "count lanes", "SELECT count(*) FROM lanes", 0, NULL);
    if (res == NULL)
        return TXL_EDB;
    long long count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (count == w->lanes_count)
        return 0;
    return watch_lanes_load(w);
}

void watch_lanes_free(watcher_t *w) {
    free(w->lanes);
    w->lanes = NULL;
    w->n_lanes = 0;
    w->lanes_count = -1;
}
