#!/usr/bin/env bash
# Seeds the fuzz corpora from the conformance messages (RFC 3665 flows,
# RFC 4475 torture tests): whole messages for `parse` and `phone`, their
# bodies for `sdp`. Idempotent; libFuzzer adds what it finds beside them.
set -euo pipefail
cd "$(dirname "$0")"
src=../conformance/corpus
mkdir -p corpus/parse corpus/sdp corpus/phone
for f in "$src"/rfc3665/*.sip "$src"/rfc4475/*/*.dat; do
    name=$(basename "$(dirname "$f")")-$(basename "$f")
    cp "$f" "corpus/parse/$name"
    cp "$f" "corpus/phone/$name"
    # The body: everything after the first empty line.
    body=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); i=d.find(b"\r\n\r\n"); sys.stdout.buffer.write(d[i+4:] if i>=0 else b"")' "$f" | base64 -w0)
    if [ -n "$body" ]; then
        echo "$body" | base64 -d > "corpus/sdp/$name"
    fi
done
echo "seeded: parse $(ls corpus/parse | wc -l), sdp $(ls corpus/sdp | wc -l), phone $(ls corpus/phone | wc -l)"
