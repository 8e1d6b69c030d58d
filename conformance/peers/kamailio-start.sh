#!/bin/bash
# Start the loopback test proxy (kamailio) in the background.
# Env: PEERS_DIR (default /tmp/peers)  KAM_IP (127.0.0.1)  KAM_PORT (5060)
#      KAM_CFG (default: kamailio.cfg next to this script)
#      KAM_DEFINES (space-separated extra defines, e.g. "WITH_AUTH AUTH_SHA256")
# Writes $PEERS_DIR/kamailio.pid and $PEERS_DIR/kamailio.log
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEERS_DIR="${PEERS_DIR:-/tmp/peers}"
KAM_IP="${KAM_IP:-127.0.0.1}"
KAM_PORT="${KAM_PORT:-5060}"
KAM_CFG="${KAM_CFG:-$HERE/kamailio.cfg}"
DEFS=()
for d in ${KAM_DEFINES:-}; do DEFS+=(-A "$d"); done
PIDF="$PEERS_DIR/kamailio.pid"
LOG="$PEERS_DIR/kamailio.log"
mkdir -p "$PEERS_DIR/kamailio-run"

if [[ -f "$PIDF" ]] && kill -0 "$(cat "$PIDF")" 2>/dev/null; then
  echo "kamailio already running, pid $(cat "$PIDF")"; exit 0
fi
kamailio -c -f "$KAM_CFG" -A "SIP_IP=$KAM_IP" -A "SIP_PORT=$KAM_PORT" "${DEFS[@]}" >"$LOG" 2>&1 \
  || { echo "config check failed:"; tail -20 "$LOG"; exit 1; }

# -DD: keep the main process in the foreground (children still forked),
# -E: log to stderr (-> $LOG); -Y: runtime dir not under /run; running as root
# is fine (kamailio only warns); add -u/-g to drop privileges if wanted.
kamailio -f "$KAM_CFG" -A "SIP_IP=$KAM_IP" -A "SIP_PORT=$KAM_PORT" "${DEFS[@]}" \
  -DD -E -P "$PIDF" -Y "$PEERS_DIR/kamailio-run" -w "$PEERS_DIR" -m 64 -M 8 \
  >>"$LOG" 2>&1 < /dev/null &
PID=$!   # kamailio itself writes $PIDF (-P); do not pre-create it, kamailio
         # refuses to start when the pid file names a live process (itself)

# wait until the UDP socket is bound (max ~5 s)
for _ in $(seq 50); do
  if ss -Hlun "sport = :$KAM_PORT" | grep -q "$KAM_IP:$KAM_PORT"; then
    echo "kamailio pid $PID listening on udp:$KAM_IP:$KAM_PORT (log $LOG)"; exit 0
  fi
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
echo "kamailio failed to start:"; tail -20 "$LOG"; exit 1
