"""Independent DKIM verifier for Tern's tests (dkimpy, no DNS).

usage: verify.py MESSAGE_FILE NAME=RECORD_FILE...
       verify.py --batch MANIFEST NAME=RECORD_FILE...
NAME is the key's DNS name (selector._domainkey.domain); RECORD_FILE holds its TXT record.
One message: prints one line per DKIM-Signature ("0 PASS d=... a=..."); exits 0 only if there is at least one and
all verify. Batch: MANIFEST has one "ID<TAB>MESSAGE_FILE" line per message; prints "ID RESULT..." for each, a
result per DKIM-Signature (PASS, FAIL, ERROR:reason, or CRASH:reason when dkimpy cannot read the message); exits 0.
"""
import logging
import sys

import dkim


def load_records(args):
    records = {}
    for arg in args:
        name, path = arg.split("=", 1)
        records[name.lower().encode()] = open(path, "rb").read().strip()
    return lambda name, timeout=5: records.get(name.lower().rstrip(b"."))


def signature_count(message):
    headers, _ = dkim.rfc822_parse(message)
    return sum(1 for name, _ in headers if name.lower() == b"dkim-signature")


def verify_one(message_file, dnsfunc):
    message = open(message_file, "rb").read()
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)
    verifier = dkim.DKIM(message, logger=logging.getLogger("dkim"))
    count = signature_count(message)
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
    return 0 if count > 0 and passed == count else 1


def verify_batch(manifest, dnsfunc):
    for line in open(manifest, encoding="utf-8"):
        case_id, path = line.rstrip("\n").split("\t")
        message = open(path, "rb").read()
        results = []
        try:
            verifier = dkim.DKIM(message)
            for i in range(signature_count(message)):
                try:
                    results.append("PASS" if verifier.verify(idx=i, dnsfunc=dnsfunc) else "FAIL")
                except dkim.DKIMException as e:
                    results.append("ERROR:" + str(e).replace(" ", "_"))
        except Exception as e:
            results.append("CRASH:" + repr(e).replace(" ", "_"))
        print(case_id, *results)
    return 0


if sys.argv[1] == "--batch":
    sys.exit(verify_batch(sys.argv[2], load_records(sys.argv[3:])))
sys.exit(verify_one(sys.argv[1], load_records(sys.argv[2:])))
