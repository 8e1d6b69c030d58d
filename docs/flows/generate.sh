#!/usr/bin/env bash
# Regenerates the call-flow pictures in docs/flows/ from the simulator:
# for every flow `handset-sim list` names, NAME.txt (the ladder) and NAME.svg
# (the sequence diagram), both at seed 1 with no faults, and README.md, the
# index. conformance/tests/docs_flows.rs fails when the committed files differ
# from what this script writes, so run it after changing a flow or the engine:
#
#     docs/flows/generate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/flows

# Build once in release and take the binary's path from cargo itself, so the
# script works with any CARGO_TARGET_DIR.
sim=$(cargo build --release -q -p handset-sim --bin handset-sim --message-format=json-render-diagnostics |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
if [[ -z "$sim" || ! -x "$sim" ]]; then
    echo "generate.sh: could not find the handset-sim binary" >&2
    exit 1
fi

# Flows that were renamed or removed must not leave pictures behind.
rm -f "$out"/*.txt "$out"/*.svg

listing=$("$sim" list)
names=$(printf '%s\n' "$listing" | awk '{ print $1 }')

for name in $names; do
    # A flow that does not end as expected exits 1: stop rather than
    # commit the picture of a broken run.
    "$sim" flow "$name" >"$out/$name.txt"
    "$sim" flow "$name" --format svg >"$out/$name.svg"
done

{
    cat <<'EOF'
# Call flows

Every flow the simulator knows (`handset-sim list`), run at seed 1 on links
without loss, duplication or reordering. Each flow has its ladder, one SIP
message a line in send order (`F7  ACK  User A -> Proxy`), and a sequence
diagram of the same messages. Both come from the real engine: the phones are
`handset-core` phones and the proxy is the simulator's stateful proxy and
registrar.

The proxy is a transaction-stateful proxy, not a back-to-back user agent:
it relays requests and the users' responses hop by hop. The only responses
it writes itself are 100 Trying to an INVITE, the registrar's answers and
routing errors (404, 480, 483, 408 for a downstream timeout). So a request
from User B to User A reads `User B -> Proxy`, `Proxy -> User A`, and A's
response comes back `User A -> Proxy`, `Proxy -> User B`. A PBX that
answers in-dialog requests itself (as in the SIP-T4X administrator's guide,
whose blind-transfer table lists the server's 202 before the forwarded
REFER) shows its own response first instead. The registrations that set a
flow up are left out of its ladder, except in the flows about registration.

EOF
    if printf '%s\n' "$names" | grep -qx blind-transfer; then
        cat <<'EOF'
`blind-transfer` is the reference flow of the SIP-T4X administrator's
guide (blind transfer through a proxy): after the call set-up its ladder
holds the guide's steps F7 to F17 in order (ACK, ACK, REFER, REFER, 202,
202, BYE, BYE, 200, 200, then User A's INVITE with a new Call-ID), with
the stateful proxy's order for the REFER and its 202 as described above,
and then the completed call from User A to User C. User A also reports
the new call's progress to User B in NOTIFYs (RFC 3515); User B has hung
up by then and answers them 481, which ends the subscription.

EOF
    fi
    cat <<'EOF'
To see a flow under faults, run for example
`cargo run --release -p handset-sim -- flow basic-call --seed 7 --loss 20`
(lost datagrams and retransmissions are marked in the ladder).

Regenerate every file here with `docs/flows/generate.sh`; the test
`conformance/tests/docs_flows.rs` fails when they are out of date.

EOF
    # Hand-written notes on some flows live beside the pictures.
    notes=$(find "$out" -maxdepth 1 -name '*.md' ! -name README.md -printf '%f\n' | sort)
    if [[ -n "$notes" ]]; then
        echo "More on some of these flows:"
        echo
        for note in $notes; do
            title=$(sed -n 's/^# //p' "$out/$note" | head -n 1)
            echo "- [${title:-$note}]($note)"
        done
        echo
    fi
    cat <<'EOF'
| flow | what it shows | ladder | diagram |
|---|---|---|---|
EOF
    printf '%s\n' "$listing" | while read -r name summary; do
        printf '| `%s` | %s | [%s.txt](%s.txt) | [%s.svg](%s.svg) |\n' \
            "$name" "$summary" "$name" "$name" "$name" "$name"
    done
} >"$out/README.md"

count=$(printf '%s\n' "$names" | grep -c .)
echo "docs/flows: $count flows written"
