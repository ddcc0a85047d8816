"""Independent DKIM verifier for Tern's tests (dkimpy, no DNS).

usage: verify.py MESSAGE_FILE NAME=RECORD_FILE...
NAME is the key's DNS name (selector._domainkey.domain); RECORD_FILE holds its TXT record.
Prints one line per DKIM-Signature ("0 PASS d=... a=..."); exits 0 only if there is at least one and all verify.
"""
import logging
import sys

import dkim

message = open(sys.argv[1], "rb").read()
records = {}
for arg in sys.argv[2:]:
    name, path = arg.split("=", 1)
    records[name.lower().encode()] = open(path, "rb").read().strip()


def dnsfunc(name, timeout=5):
    return records.get(name.lower().rstrip(b"."))


logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
verifier = dkim.DKIM(message, logger=logging.getLogger("dkim"))
headers, _ = dkim.rfc822_parse(message)
count = sum(1 for name, _ in headers if name.lower() == b"dkim-signature")
passed = 0
for i in range(count):
    try:
        ok = verifier.verify(idx=i, dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        print(i, "ERROR", e)
        ok = False
    if ok:
        passed += 1
        print(i, "PASS", verifier.domain.decode(), verifier.signature_fields.get(b"a", b"").decode())
    else:
        print(i, "FAIL")
sys.exit(0 if count > 0 and passed == count else 1)
