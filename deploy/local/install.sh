#!/usr/bin/env bash
# install.sh - installs what the local txlane stack and build need, and only what is missing:
#   - Debian packages (build tools and -dev libraries, PostgreSQL 15, Java 17, Maven, kcat, ...)
#   - Apache Kafka 3.9 jars from Maven Central (deploy/kafka/pom.xml) into .tools/kafka/lib
#   - anvil from npm (@foundry-rs/anvil-linux-amd64) into .tools/npm
# Idempotent; a second run only checks and returns within a second or two.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools"
KAFKA_LIB="$TOOLS/kafka/lib"
KAFKA_POM="$ROOT/deploy/kafka/pom.xml"
NPM_PREFIX="$TOOLS/npm"
ANVIL_VERSION="${TXLANE_ANVIL_VERSION:-1.7.1}"

APT_PACKAGES=(
    build-essential cmake pkg-config
    librdkafka-dev libpq-dev libsecp256k1-dev libcurl4-openssl-dev libyajl-dev check
    libmicrohttpd-dev libssl-dev
    postgresql openjdk-17-jre-headless maven kcat docker-compose curl jq procps python3-jsonschema python3-yaml
)

log() { printf 'install: %s\n' "$*" >&2; }
die() {
    printf 'install: error: %s\n' "$*" >&2
    exit 1
}

install_apt() {
    local p missing=()
    for p in "${APT_PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]]; then
            missing+=("$p")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "debian packages: all ${#APT_PACKAGES[@]} present"
        return 0
    fi
    log "debian packages: installing ${missing[*]}"
    if [[ $EUID -ne 0 ]]; then
        die "missing packages (${missing[*]}); run as root or: sudo apt-get install ${missing[*]}"
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The jar folder is complete when its stamp matches the pom it was made from.
kafka_stamp() { sha256sum "$KAFKA_POM" | cut -d' ' -f1; }

install_kafka() {
    local tmp
    if [[ -f "$KAFKA_LIB/.complete" && "$(cat "$KAFKA_LIB/.complete")" == "$(kafka_stamp)" ]] &&
        compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" >/dev/null; then
        log "kafka jars: present in ${KAFKA_LIB#"$ROOT"/}"
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (the maven package did not install?)"
    log "kafka jars: resolving $(grep -o '<kafka.version>[^<]*' "$KAFKA_POM" | cut -d'>' -f2) from Maven Central"
    mkdir -p "$TOOLS/kafka"
    tmp="$TOOLS/kafka/lib.tmp"
    rm -rf "$tmp"
    if ! mvn -B -q -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp" >"$TOOLS/kafka/mvn.log" 2>&1; then
        tail -n 20 "$TOOLS/kafka/mvn.log" >&2
        rm -rf "$tmp"
        die "could not download the Kafka jars from Maven Central (https://repo.maven.apache.org);" \
            "check network access or the Maven proxy settings (~/.m2/settings.xml)." \
            "Nothing was substituted; full log: ${TOOLS#"$ROOT"/}/kafka/mvn.log"
    fi
    compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || die "maven finished but produced no kafka jar"
    rm -rf "$KAFKA_LIB"
    mv "$tmp" "$KAFKA_LIB"
    kafka_stamp >"$KAFKA_LIB/.complete"
    log "kafka jars: $(find "$KAFKA_LIB" -name '*.jar' | wc -l) jars in ${KAFKA_LIB#"$ROOT"/}"
}

install_anvil() {
    local pkg bin="$NPM_PREFIX/node_modules/.bin/anvil"
    if [[ -x "$bin" ]] && "$bin" --version >/dev/null 2>&1; then
        log "anvil: present ($("$bin" --version | head -n 1))"
        return 0
    fi
    case "$(uname -m)" in
    x86_64) pkg="@foundry-rs/anvil-linux-amd64" ;;
    aarch64) pkg="@foundry-rs/anvil-linux-arm64" ;;
    *) die "anvil: no npm package for $(uname -m)" ;;
    esac
    command -v npm >/dev/null || die "npm not found: install Node.js (>= 20) with npm"
    log "anvil: npm install $pkg@$ANVIL_VERSION"
    mkdir -p "$NPM_PREFIX"
    if ! npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error \
        "$pkg@$ANVIL_VERSION" >"$TOOLS/npm.log" 2>&1; then
        tail -n 20 "$TOOLS/npm.log" >&2
        die "could not install $pkg from the npm registry"
    fi
    "$bin" --version >/dev/null 2>&1 || die "anvil installed but $bin does not run"
    log "anvil: $("$bin" --version | head -n 1)"
}

main() {
    local t0=$SECONDS
    install_apt
    install_kafka
    install_anvil
    log "done in $((SECONDS - t0))s"
}

main "$@"
