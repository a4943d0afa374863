#!/usr/bin/env python3
"""schema_agreement.py - schemas/payout_request.schema.json and the allocator's validator
(tests/unit/test_payout.c runs the same corpus through the C code) must accept and reject the
same messages of tests/vectors/payout_requests.txt.

The schema cannot express a few rules (EIP-55 checksums, duplicate keys, the exact 2^256 bound,
the configured lane count and block gas limit, nesting depth): the corpus cases rejected for
those reasons must be accepted by the schema, every other case must get the same verdict.
"""
import json
import os
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


def main():
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
    for fl in failures:
        print("FAIL:", fl)
    print(f"{cases - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
