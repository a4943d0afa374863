#!/usr/bin/env python3
"""schema_agreement.py - schemas/payout_request.schema.json and the allocator's validator
(tests/unit/test_payout.c runs the same corpus through the C code) must accept and reject the
same messages of tests/vectors/payout_requests.txt.

With --samples PROGRAM (tests/unit/msg_samples.c), also: every message the encoders of msg.h
write validates against its schema in schemas/ (allocated, signed, status, dlq), and leaving
out any member a schema requires makes it invalid.

The schema cannot express a few rules (EIP-55 checksums, duplicate keys, the exact 2^256 bound,
the configured lane count and block gas limit, nesting depth): the corpus cases rejected for
those reasons must be accepted by the schema, every other case must get the same verdict.
"""
import json
import os
import subprocess
import sys

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEYOND_SCHEMA = {"bad_checksum", "duplicate_key"}
LANES, GAS_LIMIT_MAX = 64, 30000000


def beyond_schema(code, msg):
    if code in BEYOND_SCHEMA:
        return True
    try:
        obj = json.loads(msg)
    except ValueError:
        return False
    if not isinstance(obj, dict):
        return False
    value, gas = obj.get("value_wei"), obj.get("gas_limit")
    if code == "bad_value" and isinstance(value, str) and value.isdigit():
        return True  # >= 2^256 with at most 78 digits
    if code == "bad_lane" and isinstance(obj.get("lane"), int) and obj["lane"] >= LANES:
        return True
    if code == "bad_gas_limit" and isinstance(gas, str) and gas.isdigit() \
            and int(gas) > GAS_LIMIT_MAX:
        return True
    return False


def message_schemas():
    """The message schemas, validated, with a registry that resolves their cross references."""
    schemas = {}
    for name in ("allocated", "signed", "status", "dlq"):
        with open(os.path.join(ROOT, "schemas", f"{name}.schema.json")) as f:
            schemas[f"{name}.schema.json"] = json.load(f)
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    try:  # jsonschema >= 4.18
        from referencing import Registry, Resource
        registry = Registry().with_resources(
            (s["$id"], Resource.from_contents(s)) for s in schemas.values())
        return {name: jsonschema.Draft202012Validator(s, registry=registry)
                for name, s in schemas.items()}
    except ImportError:  # Debian 12's jsonschema 4.10
        store = {s["$id"]: s for s in schemas.values()}
        return {name: jsonschema.Draft202012Validator(
                    s, resolver=jsonschema.RefResolver.from_schema(s, store=store))
                for name, s in schemas.items()}


def check_samples(program):
    """Encoder output against the schemas; returns the failures and the number of checks."""
    validators = message_schemas()
    out = subprocess.run([program], check=True, capture_output=True, text=True).stdout
    failures, checks, seen = [], 0, set()
    for line in out.splitlines():
        name, text = line.split("\t", 1)
        seen.add(name)
        obj = json.loads(text)
        v = validators[name]
        checks += 1
        errors = [e.message for e in v.iter_errors(obj)]
        if errors:
            failures.append(f"{name}: encoder output invalid ({errors[0]}): {text[:200]}")
        for key in v.schema.get("required", []):
            checks += 1
            partial = {k: val for k, val in obj.items() if k != key}
            if v.is_valid(partial):
                failures.append(f"{name}: valid without required member {key}")
    missing = set(validators) - seen
    if missing:
        failures.append(f"no samples for {sorted(missing)}")
    return failures, checks


def main():
    samples = None
    if len(sys.argv) == 3 and sys.argv[1] == "--samples":
        samples = sys.argv[2]
    elif len(sys.argv) != 1:
        print("usage: schema_agreement.py [--samples MSG_SAMPLES_PROGRAM]", file=sys.stderr)
        return 2
    with open(os.path.join(ROOT, "schemas", "payout_request.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures, cases = [], 0
    with open(os.path.join(ROOT, "tests", "vectors", "payout_requests.txt")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            code, msg = line.rstrip("\n").split("\t", 1)
            cases += 1
            try:
                obj = json.loads(msg)
                schema_ok = validator.is_valid(obj)
            except ValueError:
                schema_ok = False
            want_ok = code == "ok" or beyond_schema(code, msg)
            if schema_ok != want_ok:
                failures.append(f"{code}: schema says {'valid' if schema_ok else 'invalid'}: {msg}")
    if samples is not None:
        more, checks = check_samples(samples)
        failures += more
        cases += checks
    for fl in failures:
        print("FAIL:", fl)
    print(f"{cases - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
