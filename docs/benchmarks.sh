#!/usr/bin/env bash
# Runs every measurement of docs/benchmarks.md once, in one go on one
# machine, and prints the summary table: so the ratios in it (handset
# against rsip and against a bare memchr scan, the simulator against the
# core alone) come from the same run and the same load.
#
#   docs/benchmarks.sh          # codec, simulated calls, transaction table,
#                               # bytes per call slot, Cortex-M footprint
#   docs/benchmarks.sh --load   # also Linux calls/s against sipp (needs sipp)
#
# Wall-clock rows come from criterion; instruction counts from callgrind
# (skipped when valgrind is missing), which stay put on a busy machine.
# Everything it runs is also listed per row in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
export CARGO_TARGET_DIR="$target"
with_load=false
[ "${1:-}" = "--load" ] && with_load=true
raw="$target/benchmarks"
mkdir -p "$raw"

note() { printf '== %s\n' "$*" >&2; }

note "machine"
{
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1) ($(nproc) cores)"
    echo "rustc: $(rustc --version)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} | tee "$raw/machine.txt" >&2

note "criterion: codec, calls, table"
for bench in codec calls table; do
    cargo bench -q -p handset-conformance --bench "$bench" >"$raw/bench-$bench.txt" 2>&1 ||
        { cat "$raw/bench-$bench.txt" >&2; exit 1; }
done

note "callgrind: instructions per message"
: >"$raw/callgrind.txt"
if command -v valgrind >/dev/null; then
    cargo build -q --release -p handset-conformance --example codec_callgrind
    for w in none handset rsip memchr parse write; do
        ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            "$target/release/examples/codec_callgrind" "$w" 200 2>&1 >/dev/null |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
        echo "$w $ir" >>"$raw/callgrind.txt"
    done
else
    note "valgrind not installed: no instruction counts"
fi

note "bytes per call slot"
cargo test -q -p handset-conformance --test phone_size -- --nocapture >"$raw/phone_size.txt" 2>&1

note "Cortex-M footprint"
if shims/baremetal/footprint.sh --json >"$raw/footprint.jsonl" 2>"$raw/footprint.err"; then :; else
    note "footprint skipped: $(tail -n 1 "$raw/footprint.err")"
    : >"$raw/footprint.jsonl"
fi

: >"$raw/load.txt"
if $with_load; then
    note "Linux calls/s against sipp"
    CAPACITY=load conformance/load/handset-load.sh >"$raw/load.txt" 2>&1 ||
        note "load script failed: see $raw/load.txt"
fi

python3 - "$raw" "$target/criterion" <<'PY'
import json, os, re, sys

raw, crit = sys.argv[1], sys.argv[2]

def estimate(name):
    """criterion's mean estimate in ns and its 95 % interval."""
    path = os.path.join(crit, *name.split("/"), "new", "estimates.json")
    try:
        m = json.load(open(path))["mean"]
    except (OSError, KeyError, ValueError):
        return None
    ci = m["confidence_interval"]
    return m["point_estimate"], ci["lower_bound"], ci["upper_bound"]

def read(name):
    try:
        return open(os.path.join(raw, name)).read()
    except OSError:
        return ""

MESSAGES, BYTES = 16, 7049  # the corpus both codecs read (codec_work.rs)
ir = {}
for line in read("callgrind.txt").splitlines():
    w, _, n = line.partition(" ")
    if n.strip():
        ir[w] = int(n)

def per_msg_ir(w, per_round):
    if w not in ir or "none" not in ir:
        return ""
    return f"{(ir[w] - ir['none']) / (200 * per_round):,.0f}"

def us(ns):
    return f"{ns / 1000:.2f} µs"

print(read("machine.txt"))
print("| workload | time | throughput | instructions |")
print("|---|---|---|---|")
codec = {}
for w, crit_name, per in (("handset", "corpus/handset", MESSAGES),
                          ("rsip", "corpus/rsip", MESSAGES),
                          ("memchr", "corpus/memchr_crlf", MESSAGES),
                          ("write", "write/handset_invite", 1)):
    e = estimate(crit_name)
    if e is None:
        continue
    t = e[0] / per
    codec[w] = t
    tp = f"{BYTES / MESSAGES / t * 1000:,.0f} MB/s" if per == MESSAGES else ""
    print(f"| codec {w} (per message) | {us(t)} ({us(e[1] / per)}-{us(e[2] / per)}) | {tp} "
          f"| {per_msg_ir(w, per)} |")
if ir.get("parse"):
    print(f"| codec handset parse alone (per message) | | | {per_msg_ir('parse', MESSAGES)} |")
for name in ("sim/basic-call", "sim/media-stats", "core/call-10s-media"):
    e = estimate(name)
    if e:
        print(f"| {name} | {e[0] / 1e6:.3f} ms per call | {1e9 / e[0]:,.0f} calls/s | |")
steady = os.path.join(crit, "table_steady")  # criterion's directory for group "table/steady"
for d in sorted(os.listdir(steady), key=lambda n: (len(n), n)) if os.path.isdir(steady) else []:
    e = estimate(f"table_steady/{d}")
    if e:
        print(f"| transaction table of {d} slots, half live | {us(e[0])} per transaction | | |")
size = re.search(r"Phone<1> (\d+) B, Phone<2> (\d+) B, Phone<4> (\d+) B: (\d+) B per call slot",
                 read("phone_size.txt"))
if size:
    print(f"| Phone<1> / Phone<4> / per call slot | {size[1]} / {size[3]} / {size[4]} bytes | | |")
for line in read("footprint.jsonl").splitlines():
    d = json.loads(line)
    if d.get("calls") is None:
        continue
    print(f"| Cortex-M4F, call slots: {d['calls']}, opt-level \"{d.get('opt', '?')}\" | flash "
          f"{d['flash'] / 1024:.1f} KiB, RAM {d['ram'] / 1024:.1f} KiB | | |")
best = re.search(r"highest rate with 0 failed calls: (.*)", read("load.txt"))
if best:
    print(f"| Linux, sipp uac against handset answer | {best[1]} | | |")

print()
if "handset" in codec and "rsip" in codec:
    print(f"codec: handset {codec['rsip'] / codec['handset']:.1f}x faster than rsip by time", end="")
    if "handset" in ir and "rsip" in ir and "none" in ir:
        print(f", {(ir['rsip'] - ir['none']) / (ir['handset'] - ir['none']):.1f}x by instructions", end="")
    if "memchr" in codec:
        print(f"; {codec['handset'] / codec['memchr']:.1f}x the time of the memchr scan", end="")
    print()
sim, core = estimate("sim/basic-call"), estimate("core/call-10s-media")
if sim and core:
    print(f"calls: a simulated basic call through the proxy (no RTP on the wire) takes "
          f"{sim[0] / 1e6:.3f} ms; two core phones alone with 10 s of RTP and RTCP take "
          f"{core[0] / 1e6:.3f} ms")
print(f"load average at end: {open('/proc/loadavg').read().split()[:3]}")
PY
