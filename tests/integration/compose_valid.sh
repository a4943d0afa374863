#!/usr/bin/env bash
# compose_valid.sh - docker-compose.yml is valid for docker-compose (`config -q`) and scalable:
# every worker can run as several replicas (no container_name, no fixed host port), the signer
# alone gets the mnemonic secret, and Prometheus finds replicas through DNS service discovery.
set -euo pipefail

SRC="${TXLANE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

cd "$SRC"
command -v docker-compose >/dev/null || fail "docker-compose is not installed (deploy/local/install.sh)"
command -v python3 >/dev/null || fail "python3 is needed to read the compose file"

# Variables the file takes from the environment must have defaults: config works without any.
env -i PATH="$PATH" HOME="${HOME:-/tmp}" docker-compose -f docker-compose.yml config -q ||
    fail "docker-compose config -q rejects docker-compose.yml"
echo "ok: docker-compose config -q"

# The resolved configuration, as JSON, for the structural checks.
resolved="$(env -i PATH="$PATH" HOME="${HOME:-/tmp}" docker-compose -f docker-compose.yml config)"
python3 - "$resolved" <<'PY' || fail "docker-compose.yml is not scalable as required (see above)"
import sys, yaml
cfg = yaml.safe_load(sys.argv[1])
svcs = cfg.get("services", {})
workers = {"allocator": 9101, "signer": 9102, "broadcaster": 9103, "watcher": 9104}
bad = []
for name in ["kafka", "postgres", "anvil", "init", "prometheus", *workers]:
    if name not in svcs:
        bad.append(f"service {name} is missing")
for name, port in workers.items():
    s = svcs.get(name, {})
    if "container_name" in s:
        bad.append(f"{name}: container_name prevents --scale")
    for p in s.get("ports", []) or []:
        bad.append(f"{name}: publishes host port {p} (prevents --scale)")
    env = s.get("environment", {}) or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    for var in ["KAFKA_BOOTSTRAP_SERVERS", "TXLANE_CHAIN_ID", "TXLANE_HTTP_PORT"]:
        if var not in env:
            bad.append(f"{name}: {var} not set")
    # The signer has neither database nor node access (DESIGN.md section 2).
    for var in ["TXLANE_PG_DSN", "TXLANE_RPC_URL"]:
        if (var in env) == (name == "signer"):
            bad.append(f"{name}: {var} " + ("must not be set" if name == "signer" else "not set"))
    if str(env.get("TXLANE_HTTP_PORT")) != str(port):
        bad.append(f"{name}: TXLANE_HTTP_PORT is {env.get('TXLANE_HTTP_PORT')}, expected {port}")
    has_xpub = "TXLANE_XPUB" in env
    if name in ("allocator", "watcher") and not has_xpub:
        bad.append(f"{name}: TXLANE_XPUB not set")
    secrets = s.get("secrets", []) or []
    if name == "signer":
        if not secrets or "TXLANE_MNEMONIC_FILE" not in env:
            bad.append("signer: needs the mnemonic secret and TXLANE_MNEMONIC_FILE")
    elif secrets or "TXLANE_MNEMONIC_FILE" in env:
        bad.append(f"{name}: must not get the mnemonic")
    dep = s.get("depends_on", {})
    if "init" not in dep:
        bad.append(f"{name}: does not wait for init (migrate + topics)")
for name in ["init", *workers]:
    if "build" not in svcs.get(name, {}):
        bad.append(f"{name}: not built from deploy/Dockerfile")
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "ok: workers scale (no container_name, no host ports), env and secrets as required"

# Prometheus scrapes every replica: DNS service discovery per worker service.
prom=deploy/prometheus/prometheus.yml
[[ -f "$prom" ]] || fail "$prom is missing"
for w in allocator:9101 signer:9102 broadcaster:9103 watcher:9104; do
    if ! grep -q "'${w%%:*}'" "$prom" || ! grep -q "${w#*:}" "$prom"; then
        fail "$prom does not discover ${w%%:*} on port ${w#*:}"
    fi
done
grep -q dns_sd_configs "$prom" || fail "$prom does not use dns_sd_configs"
echo "ok: prometheus discovers workers by DNS"

# The Dockerfile builds in one stage and runs unprivileged in another.
df=deploy/Dockerfile
[[ "$(grep -c '^FROM ' "$df")" -ge 2 ]] || fail "$df is not multi-stage"
grep -Eq '^USER +[^r0]' "$df" || fail "$df runtime stage does not switch to a non-root user"
echo "ok: $df multi-stage, non-root"

# Kubernetes manifests parse, and only the signer sees the mnemonic Secret.
python3 - deploy/k8s/*.yaml <<'PY' || fail "deploy/k8s manifests are incomplete (see above)"
import sys, yaml
docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]
kinds = {}
for d in docs:
    kinds.setdefault(d["kind"], []).append(d)
bad = []
deps = {d["metadata"]["name"]: d for d in kinds.get("Deployment", [])}
for w in ["allocator", "signer", "broadcaster", "watcher"]:
    name = "txlane-" + w
    if name not in deps:
        bad.append(f"Deployment {name} missing")
        continue
    pod = deps[name]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    if "readinessProbe" not in c or "livenessProbe" not in c:
        bad.append(f"{name}: probes missing")
    vols = str(pod.get("volumes", []))
    if (w == "signer") != ("txlane-mnemonic" in vols):
        bad.append(f"{name}: the mnemonic Secret must be mounted into the signer only")
if not kinds.get("Job"):
    bad.append("no Job for migrate + topics")
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "ok: deploy/k8s manifests"
echo "PASS compose_valid"
