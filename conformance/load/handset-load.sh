#!/usr/bin/env bash
# Load test: SIPp's built-in `uac` at rising call rates against
# `handset answer --auto-answer`, on loopback. Each rate runs for STEP
# seconds against a freshly started handset; the script reports, per rate,
# SIPp's successful/failed calls and the handset's peak RSS, and at the end
# the highest rate with zero failed calls.
#
#   conformance/load/handset-load.sh                  # defaults below
#   RATES="100 500 1000 2000" STEP=5 TRANSPORT=udp conformance/load/handset-load.sh
#
# Environment:
#   RATES      call rates to try, calls/s, ascending (default 50 100 200 400 800 1200 1600 2000)
#   STEP       seconds of calls per rate (default 5)
#   TRANSPORT  udp or tcp (SIPp -t t1: one TCP connection) (default udp)
#   CAPACITY   handset --capacity: desk, server or load (default load)
#   STOP_AT_FAILURE  1 stops at the first rate with failures (default 1)
#   HANDSET    a handset binary (default: cargo build --release)
#   OUT        result directory (default /tmp/handset-load)
#
# A UDP call keeps its INVITE and BYE server transactions for 64*T1 = 32 s
# after it ends (RFC 6026 Timer L, RFC 3261 Timer J), so a run of STEP
# seconds at rate R needs about 2*R*STEP transaction slots; the handset
# answers 503/486 when its fixed table is full, which SIPp counts as failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

RATES=${RATES:-"50 100 200 400 800 1200 1600 2000"}
STEP=${STEP:-5}
TRANSPORT=${TRANSPORT:-udp}
CAPACITY=${CAPACITY:-load}
STOP_AT_FAILURE=${STOP_AT_FAILURE:-1}
OUT=${OUT:-/tmp/handset-load}
SIP_PORT=${SIP_PORT:-35060}
UAC_PORT=${UAC_PORT:-35061}
RTP_PORT=${RTP_PORT:-36000}

command -v sipp >/dev/null || { echo "sipp not installed (conformance/peers/install.sh)" >&2; exit 1; }
if [[ -z "${HANDSET:-}" ]]; then
  cargo build --release -q -p handset-linux --bin handset
  HANDSET="${CARGO_TARGET_DIR:-target}/release/handset"
fi
[[ -x "$HANDSET" ]] || { echo "no handset binary at $HANDSET" >&2; exit 1; }

case "$TRANSPORT" in
  udp) SIPP_T=u1 ;;
  tcp) SIPP_T=t1 ;;
  *) echo "TRANSPORT must be udp or tcp" >&2; exit 2 ;;
esac

rm -rf "$OUT" && mkdir -p "$OUT"
best=0
best_rss=0
printf '%-8s %-10s %-8s %-8s %-10s %-8s\n' rate calls ok failed peak_rss cpu_s | tee "$OUT/summary.txt"
for rate in $RATES; do
  dir="$OUT/rate-$rate"
  mkdir -p "$dir"
  "$HANDSET" answer --auto-answer --quiet --capacity "$CAPACITY" --transport "$TRANSPORT" \
    --bind "127.0.0.1:$SIP_PORT" --rtp-port "$RTP_PORT" >"$dir/handset.out" 2>"$dir/handset.err" &
  pid=$!
  for _ in $(seq 50); do grep -q '^listening' "$dir/handset.out" 2>/dev/null && break; sleep 0.1; done
  calls=$((rate * STEP))
  set +e
  (cd "$dir" && sipp -sn uac "127.0.0.1:$SIP_PORT" -i 127.0.0.1 -p "$UAC_PORT" -t "$SIPP_T" \
     -m "$calls" -r "$rate" -l $((rate * 4 + 100)) -recv_timeout 10000 -max_socket 1000 \
     -nostdin -trace_err >sipp.out 2>&1)
  rc=$?
  set -e
  rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  cpu_ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  ok=$(awk -F'|' '/Successful call/ {v=$3} END {gsub(/ /, "", v); print v+0}' "$dir/sipp.out")
  failed=$(awk -F'|' '/Failed call/ {v=$3} END {gsub(/ /, "", v); print v+0}' "$dir/sipp.out")
  cpu=$(awk -v t="$cpu_ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')
  printf '%-8s %-10s %-8s %-8s %-10s %-8s\n' "$rate" "$calls" "$ok" "$failed" "$((rss_kb / 1024))MiB" "$cpu" \
    | tee -a "$OUT/summary.txt"
  if [[ $rc -eq 0 && "$failed" == 0 && "$ok" == "$calls" ]]; then
    best=$rate
  elif [[ "$STOP_AT_FAILURE" == 1 ]]; then
    break
  fi
  (( rss_kb > best_rss )) && best_rss=$rss_kb
done
echo "highest rate with 0 failed calls: $best calls/s ($TRANSPORT, capacity $CAPACITY, ${STEP}s per rate); peak RSS $((best_rss / 1024)) MiB" \
  | tee -a "$OUT/summary.txt"
