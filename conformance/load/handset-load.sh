#!/usr/bin/env bash
# Load test: SIPp's built-in `uac` at rising call rates against
# `handset answer --auto-answer`, on loopback. Each rate runs for STEP
# seconds against a freshly started handset; the script reports, per rate,
# SIPp's successful/failed calls, the handset's peak RSS (VmHWM, which
# includes building the phone) and its RSS at the end of the step (VmRSS,
# the tables as full as the step makes them), its CPU time and the load
# average at the end of the step; at the end, the highest rate with zero
# failed calls.
#
#   conformance/load/handset-load.sh                  # defaults below
#   RATES="100 500 1000 2000" STEP=5 TRANSPORT=udp conformance/load/handset-load.sh
#   nice -n -10 conformance/load/handset-load.sh      # on a machine busy with builds
#
# Environment:
#   RATES      call rates to try, calls/s, ascending (default 50 100 200 400 800 1200 1600 2000 2400)
#   STEP       seconds of calls per rate (default 5)
#   TRANSPORT  udp or tcp (SIPp -t t1: one TCP connection) (default udp)
#   CAPACITY   handset --capacity: desk, server or load (default load)
#   STOP_AT_FAILURE  1 stops at the first rate with failures (default 1)
#   HANDSET    a handset binary (default: cargo build --release)
#   OUT        result directory (default /tmp/handset-load)
#
# A UDP call keeps its INVITE and BYE server transactions for 64*T1 = 32 s
# after it ends (RFC 6026 Timer L, RFC 3261 Timer J), so a run of STEP
# seconds at rate R keeps about 2*R*STEP of them (2*R*32 once STEP exceeds
# 32 s), in compact records while the capacity has them, else in slots; the
# handset answers 503 when three quarters of its slots are taken and 486
# when every call slot is, which SIPp counts as failed.
# SIPp gets a 4 MiB socket buffer (-buff_size; its default of 64 KiB drops
# responses in bursts), as the handset's SIP socket has.
set -euo pipefail
cd "$(dirname "$0")/../.."

RATES=${RATES:-"50 100 200 400 800 1200 1600 2000 2400"}
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
best_end=0
printf '%-8s %-10s %-8s %-8s %-10s %-10s %-8s %s\n' rate calls ok failed peak_rss end_rss cpu_s load \
  | tee "$OUT/summary.txt"
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
     -m "$calls" -r "$rate" -l $((rate * 4 + 100)) -recv_timeout 10000 -max_socket 1000 -buff_size 4194304 \
     -nostdin -trace_err >sipp.out 2>&1)
  rc=$?
  set -e
  rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  end_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  load=$(cut -d' ' -f1 /proc/loadavg)
  cpu_ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  ok=$(awk -F'|' '/Successful call/ {v=$3} END {gsub(/ /, "", v); print v+0}' "$dir/sipp.out")
  failed=$(awk -F'|' '/Failed call/ {v=$3} END {gsub(/ /, "", v); print v+0}' "$dir/sipp.out")
  cpu=$(awk -v t="$cpu_ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')
  printf '%-8s %-10s %-8s %-8s %-10s %-10s %-8s %s\n' "$rate" "$calls" "$ok" "$failed" \
    "$((rss_kb / 1024))MiB" "$((end_kb / 1024))MiB" "$cpu" "$load" | tee -a "$OUT/summary.txt"
  if [[ $rc -eq 0 && "$failed" == 0 && "$ok" == "$calls" ]]; then
    best=$rate
    best_rss=$rss_kb
    best_end=$end_kb
  elif [[ "$STOP_AT_FAILURE" == 1 ]]; then
    break
  fi
done
echo "highest rate with 0 failed calls: $best calls/s ($TRANSPORT, capacity $CAPACITY, ${STEP}s per rate);" \
  "peak RSS $((best_rss / 1024)) MiB, $((best_end / 1024)) MiB at the end of the step" \
  | tee -a "$OUT/summary.txt"
