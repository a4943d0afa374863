#!/usr/bin/env python3
"""alloc_load.py - payout-request load for the allocator tests, and the checks of its results.

  alloc_load.py gen OUT_DIR --count N --partitions P --lanes L [--dup-pct 5] [--bad-pct 2] [--seed S]
      writes OUT_DIR/requests.txt ("key<TAB>value" lines for kcat -K), OUT_DIR/expected.json
  alloc_load.py check OUT_DIR --dsn DSN --allocated TOPIC --dlq TOPIC --bootstrap B [--at-least-once] [--wait S]
      checks PostgreSQL and the topics against expected.json; prints what it checked; exit 1 on
      the first broken invariant

Invalid messages come from tests/vectors/payout_requests.txt (the corpus the unit and schema
tests share) plus the cases only a topic can carry: a UTF-8 BOM, a 1 MiB message, a pinned
lane that another partition owns. Duplicates repeat a request's exact bytes, half of them under
another key so they land on another partition.
"""
import argparse
import collections
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "vectors", "payout_requests.txt")
DLQ_RAW_MAX = 4096


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (the Java client's and librdkafka's murmur2_random partitioner)."""
    seed, m, r = 0x9747B28C, 0x5BD1E995, 24
    length = len(data)
    h = (seed ^ length) & 0xFFFFFFFF
    i = 0
    while length - i >= 4:
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
        i += 4
    rest = length - i
    if rest == 3:
        h ^= data[i + 2] << 16
    if rest >= 2:
        h ^= data[i + 1] << 8
    if rest >= 1:
        h ^= data[i]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def partition_of(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def corpus_invalid():
    cases = []
    with open(CORPUS, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            if not line or line.startswith(b"#"):
                continue
            reason, _, msg = line.partition(b"\t")
            reason = reason.decode()
            # Skip what a kcat line cannot carry. (The corpus lanes are out of range for any count.)
            if reason == "ok" or not msg or b"\t" in msg:
                continue
            cases.append((reason, msg))
    return cases


def random_address(rng):
    return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))


def gen(args):
    rng = random.Random(args.seed)
    invalid = corpus_invalid()
    out_lines = []
    expected_ids = []
    expected_dlq = []
    valid_msgs = []
    n_bad = max(3, args.count * args.bad_pct // 100)
    n_dup = args.count * args.dup_pct // 100
    n_valid = args.count - n_bad - n_dup
    for i in range(n_valid):
        rid = f"{args.prefix}-{i}"
        req = {"request_id": rid, "to": random_address(rng), "value_wei": str(rng.randint(1, 10**18))}
        kind = rng.random()
        if kind < 0.05:
            req["token"] = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
        elif kind < 0.08:
            req["data"] = "0xdeadbeef"
            req["gas_limit"] = "60000"
        elif kind < 0.12:
            part = partition_of(rid.encode(), args.partitions)
            owned = [lane for lane in range(args.lanes) if lane % args.partitions == part]
            req["lane"] = rng.choice(owned)
        if rng.random() < 0.1:
            req["metadata"] = {"order": i, "note": "tx \u00e9"}
        msg = json.dumps(req, separators=(",", ":")).encode()
        valid_msgs.append((rid.encode(), msg))
        expected_ids.append(rid)
    lines = list(valid_msgs)
    for d in range(n_dup):
        key, msg = rng.choice(valid_msgs)
        if d % 2 and b'"lane"' not in msg:
            key = key + b"-retry"  # another key: most likely another partition (a pinned
            # request must stay on its lane's partition, else it is rightly rejected)
        lines.insert(rng.randrange(len(lines) + 1), (key, msg))
    bad = []
    specials = [
        ("utf8_bom", b"\xef\xbb\xbf" + b'{"request_id":"bom-1","to":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","value_wei":"1"}'),
        ("oversized", b'{"request_id":"big-1","to":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","value_wei":"1","metadata":{"pad":"' + b"x" * (1 << 20) + b'"}}'),
    ]
    for j in range(n_bad):
        if j < len(specials):
            bad.append((f"bad-{j}".encode(),) + specials[j][::-1])
            continue
        if j % 10 == 2:
            rid = f"{args.prefix}-badlane-{j}"
            part = partition_of(rid.encode(), args.partitions)
            lane = next(lane for lane in range(args.lanes) if lane % args.partitions != part)
            msg = json.dumps({"request_id": rid, "to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                              "value_wei": "1", "lane": lane}, separators=(",", ":")).encode()
            bad.append((rid.encode(), msg, "bad_lane"))
            continue
        reason, msg = invalid[j % len(invalid)]
        bad.append((f"bad-{j}".encode(), msg, reason))
    for key, msg, reason in bad:
        lines.insert(rng.randrange(len(lines) + 1), (key, msg))
        expected_dlq.append({"reason": reason, "raw": msg[:DLQ_RAW_MAX].hex(), "len": len(msg)})
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "requests.txt"), "wb") as f:
        for key, msg in lines:
            assert b"\n" not in msg and b"\t" not in key
            f.write(key + b"\t" + msg + b"\n")
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump({"ids": expected_ids, "dlq": expected_dlq, "messages": len(lines)}, f)
    print(f"generated {len(lines)} messages: {n_valid} valid, {n_dup} duplicates, {len(bad)} invalid")


def psql(dsn, sql):
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", dsn, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def consume(bootstrap, topic):
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                          "-f", "%p\t%o\t%k\t%s\n"], check=True, capture_output=True, timeout=120).stdout
    rows = []
    for line in out.split(b"\n"):
        if line:
            p, o, k, v = line.split(b"\t", 3)
            rows.append((int(p), int(o), k.decode(), json.loads(v)))
    return rows


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def wait_allocated(args, want):
    """Polls until txs holds want payouts (or the wait runs out), then lets deliveries settle."""
    deadline = time.monotonic() + args.wait
    while True:
        got = int(psql(args.dsn, "SELECT count(*) FROM txs WHERE kind = 'payout'")[0][0])
        if got >= want or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if got < want:
        fail(f"only {got} of {want} requests allocated within {args.wait} s")
    time.sleep(2)  # the DLQ entries and allocations of the last batch are produced after commit


def check(args):
    with open(os.path.join(args.out, "expected.json")) as f:
        exp = json.load(f)
    if args.wait:
        wait_allocated(args, len(exp["ids"]))
    # 1. exactly one txs row per distinct valid request_id, and no other
    rows = psql(args.dsn, "SELECT request_id, lane_id, nonce, tx_id FROM txs WHERE kind = 'payout'")
    ids = [r[0] for r in rows]
    if len(ids) != len(set(ids)):
        fail("a request_id has more than one txs row")
    if set(ids) != set(exp["ids"]):
        missing = set(exp["ids"]) - set(ids)
        extra = set(ids) - set(exp["ids"])
        fail(f"txs rows differ from the valid requests: {len(missing)} missing, {len(extra)} extra")
    n_req = int(psql(args.dsn, "SELECT count(*) FROM requests")[0][0])
    if n_req != len(exp["ids"]):
        fail(f"requests has {n_req} rows, expected {len(exp['ids'])}")
    print(f"ok: one txs row for each of the {len(ids)} distinct valid requests")

    # 2. per lane, nonces are exactly [first_nonce, next_nonce) minus recorded external ranges
    lanes = {int(r[0]): (int(r[1]), int(r[2])) for r in psql(args.dsn, "SELECT id, first_nonce, next_nonce FROM lanes")}
    external = collections.defaultdict(set)
    for lane, lo, hi in psql(args.dsn, "SELECT lane_id, nonce_from, nonce_to FROM lane_external_nonces"):
        external[int(lane)].update(range(int(lo), int(hi)))
    by_lane = collections.defaultdict(list)
    for rid, lane, nonce, tx_id in rows:
        by_lane[int(lane)].append(int(nonce))
    for lane, (first, nxt) in lanes.items():
        want = set(range(first, nxt)) - external[lane]
        got = by_lane.get(lane, [])
        if len(got) != len(set(got)) or set(got) != want:
            fail(f"lane {lane}: nonces {sorted(got)[:10]}... are not exactly [{first}, {nxt}) minus external")
    print(f"ok: every lane's nonces are exactly [first_nonce, next_nonce) ({len(by_lane)} lanes used)")

    # 3. the DLQ holds every invalid message with the expected reason, and nothing else
    dlq = consume(args.bootstrap, args.dlq)
    got = collections.Counter()
    for _, _, _, v in dlq:
        raw = bytes.fromhex(v["raw_hex"]) if "raw_hex" in v else v["raw"].encode()
        got[(v["reason"], raw.hex(), v["raw_len"])] += 1
        for field in ("topic", "partition", "offset"):
            if field not in v:
                fail(f"DLQ entry without {field}")
    want = collections.Counter((d["reason"], d["raw"], d["len"]) for d in exp["dlq"])
    if args.at_least_once:
        # After crashes a rejected message may be dead-lettered again when it is redelivered.
        short = [k for k in want if got[k] < want[k]]
        if short or set(got) - set(want):
            fail(f"DLQ lacks {len(short)} invalid messages or holds {len(set(got) - set(want))} unexpected ones")
    elif got != want:
        diff = list((want - got).items())[:3], list((got - want).items())[:3]
        fail(f"DLQ differs from the invalid messages sent: missing/unexpected {diff}")
    print(f"ok: the DLQ holds the {len(dlq)} invalid messages with their reasons and original bytes")

    # 4. txlane.allocated holds each allocation, in nonce order within each lane's key
    alloc = consume(args.bootstrap, args.allocated)
    db = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}
    seen = collections.defaultdict(list)
    keys_partition = {}
    for p, o, key, v in alloc:
        if key != v["from"]:
            fail(f"allocated message keyed {key} is from {v['from']}")
        if keys_partition.setdefault(key, p) != p:
            fail(f"lane {key} spread over partitions")
        lane, nonce, tx_id = db.get(v["request_id"], (None, None, None))
        if (v["lane"], v["nonce"], v["tx_id"]) != (lane, nonce, tx_id):
            fail(f"allocated message for {v['request_id']} disagrees with txs")
        if nonce not in seen[lane]:
            seen[lane].append(nonce)
    for lane, nonces in seen.items():
        if nonces != sorted(nonces):
            fail(f"lane {lane}: allocations published out of nonce order")
    published = sum(len(v) for v in seen.values())
    if published != len(rows):
        fail(f"{published} allocations published, {len(rows)} in txs")
    print(f"ok: {len(alloc)} allocated messages cover all {len(rows)} allocations, in nonce order per lane")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("out")
    g.add_argument("--count", type=int, default=10000)
    g.add_argument("--partitions", type=int, default=12)
    g.add_argument("--lanes", type=int, default=24)
    g.add_argument("--dup-pct", type=int, default=5)
    g.add_argument("--bad-pct", type=int, default=2)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--prefix", default="req")
    c = sub.add_parser("check")
    c.add_argument("out")
    c.add_argument("--dsn", required=True)
    c.add_argument("--allocated", required=True)
    c.add_argument("--dlq", required=True)
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--wait", type=float, default=0,
                   help="first wait up to this many seconds for every valid request to be allocated")
    c.add_argument("--at-least-once", action="store_true",
                   help="the run had crashes: DLQ entries may repeat")
    args = ap.parse_args()
    gen(args) if args.cmd == "gen" else check(args)


if __name__ == "__main__":
    main()
