#!/usr/bin/env bash
# STARTTLS against plaintext, Tern against Postfix, in one run: both servers get the same self-signed P-256
# certificate and relay to one ./tern sink; the load generator alternates between them.
#
#   bench/peers/starttls.sh [OUT]       3 runs x {1, 100 messages per connection} x {tern, postfix} x {never, required}
#
# Environment (optional): RUNS=3, MESSAGES=3000, CONNECTIONS=20, WARMUP=300 (left out of each run's figures).
# Needs root (a private Postfix via postfix -c, as bench/peers/compare.sh), openssl and python3. Loopback only;
# every process started here is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/target/starttls-$(date -u +%Y%m%dT%H%M%SZ)}
RUNS=${RUNS:-3} MESSAGES=${MESSAGES:-3000} CONNECTIONS=${CONNECTIONS:-20} WARMUP=${WARMUP:-300}
mkdir -p "$OUT"
cd "$ROOT"
W=$(mktemp -d /tmp/tern-starttls.XXXXXX)
chmod 755 "$W"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SINK_PORT=$(port) PF_PORT=$(port) TERN_PORT=$(port)
SINK= TERN=
cleanup() {
  postfix -c "$W/conf" stop >/dev/null 2>&1 || true
  [ -n "$TERN" ] && kill "$TERN" 2>/dev/null || true
  [ -n "$SINK" ] && kill "$SINK" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

./tern sink --listen 127.0.0.1:"$SINK_PORT" > "$OUT/sink.log" 2>&1 & SINK=$!
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null

# Postfix: the compare script's private instance, plus STARTTLS (tlsmgr too: smtpd waits for it otherwise).
mkdir -p "$W/conf" "$W/queue" "$W/data"
sed -e "s|@LISTEN@|127.0.0.1:$PF_PORT|" bench/peers/postfix/master.cf.in > "$W/conf/master.cf"
echo "tlsmgr unix - - n 1000? 1 tlsmgr" >> "$W/conf/master.cf"
sed -e "s|@QUEUE_DIR@|$W/queue|; s|@DATA_DIR@|$W/data|; s|@SINK_PORT@|$SINK_PORT|" \
    -e "s|@LOG@|$W/postfix.log|; s|@WORK@|$W|; s|@PROCESS_LIMIT@|100|" bench/peers/postfix/main.cf.in \
    > "$W/conf/main.cf"
printf 'smtpd_tls_security_level = may\nsmtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n' \
    "$W/cert.pem" "$W/key.pem" >> "$W/conf/main.cf"
chown postfix "$W/data"
postfix -c "$W/conf" set-permissions >/dev/null 2>&1 || true
postfix -c "$W/conf" start

./tern relay --listen 127.0.0.1:"$TERN_PORT" --data-dir "$W/tern" --mynetworks 127.0.0.0/8 --durability sync \
  --smarthost 127.0.0.1:"$SINK_PORT" --tls-cert-file "$W/cert.pem" --tls-key-file "$W/key.pem" \
  > "$OUT/tern.log" 2>&1 & TERN=$!
for p in "$TERN_PORT" "$PF_PORT"; do
  for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $p), 1)" \
      2>/dev/null && break; sleep 0.2; done
done

echo "run server per-connection starttls msgs/s starttls-p50/p99-ms end-of-data-p50/p99-ms tls-sessions errors"
for run in $(seq "$RUNS"); do
  for pc in 1 100; do
    for server in tern postfix; do
      [ "$server" = tern ] && p=$TERN_PORT || p=$PF_PORT
      for tls in never required; do
        f="$OUT/r$run-$server-pc$pc-$tls"
        timeout 600 ./tern loadgen -t 127.0.0.1:"$p" -s 1k -n "$MESSAGES" -c "$CONNECTIONS" --per-connection "$pc" \
            --starttls "$tls" --warmup "$WARMUP" -q --json > "$f.json" 2> "$f.err"
        python3 - "$f.json" "$run" "$server" "$pc" "$tls" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); l = d['latency_ms']; s = l.get('starttls', {})
print(*sys.argv[2:6], round(d['messages_per_second']), f"{s.get('p50', '-')}/{s.get('p99', '-')}",
      f"{l['end_of_data']['p50']}/{l['end_of_data']['p99']}", sum(d.get('tls_sessions', {}).values()),
      sum(d.get('errors', {}).values()))
PY
        sleep 2
      done
    done
  done
done | tee "$OUT/summary.txt"
