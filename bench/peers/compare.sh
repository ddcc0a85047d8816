#!/usr/bin/env bash
# Tern vs Postfix vs Haraka in one run: the same load against each server in turn, relaying to the same sink.
#
#   bench/peers/compare.sh                 full run (3 runs per server and scenario, medians; ~50 min with WARMUP_TIME=15)
#   SCALE=0.05 RUNS=1 bench/peers/compare.sh   smoke run (a minute or two)
#   bench/peers/compare.sh jvm-flags       Tern only: JVM defaults vs core/jvm.options on the 1 KiB scenario
#
# Environment (all optional):
#   SCALE=1             multiplies every message and connection count (idle sessions included)
#   RUNS=3              runs per server and scenario; the table shows medians
#   SERVERS="tern postfix haraka"   SCENARIOS="small halfpeak smtp-source smtp-source-connect small-nopipe medium
#                       large idle"
#                       (halfpeak: open loop at half of each server's small-scenario median; runs after small)
#   HALFPEAK_RATE=      halfpeak's rate for every server instead (msgs/s), when small is not in the run
#   WORK=target/peers-work          scratch (queues, logs, Haraka install); RESULTS=$WORK/results/<time>
#   WRITE_DOCS=1 (full run) / 0     write the report into docs/benchmarks.md (or docs/tuning.md for jvm-flags)
#   WARMUP_TIME=0       seconds of unmeasured 1 KiB load (50 connections; pipelined unless the scenario is not) every
#                       server gets before each measured run, drained to the sink before measuring; CPU and
#                       end-to-end figures exclude it (JIT warm-up: a fresh JVM spends ~12 CPU-seconds compiling in
#                       its first 100,000 messages)
#   WARMUP=0            1 KiB scenarios: messages of the measured load generator's own run left out of its
#                       figures (warms the load generator itself; the server's CPU figure includes them)
#   DURABILITY=sync     Tern's --durability
#   POSTFIX_PROCESS_LIMIT=100       Postfix's default_process_limit (its stock value)
#   FLAG_VARIANTS="defaults profile" FLAG_SCENARIOS=small   jvm-flags mode: flag sets (see tern_java_flags) and load
#   DISK_SYNC_WRITES=2000 DISK_SYNC_MIB=128                 size of the dd synced-write measurement
# Loopback only. Every wait is bounded; every process started here is stopped on exit, Ctrl-C included.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/bench/peers
MODE=${1:-compare}
SCALE=${SCALE:-1}
RUNS=${RUNS:-3}
SERVERS=${SERVERS:-tern postfix haraka}
SCENARIOS=${SCENARIOS:-small halfpeak smtp-source smtp-source-connect small-nopipe medium large idle}
DURABILITY=${DURABILITY:-sync}
WORK=${WORK:-$ROOT/target/peers-work}  # under target/: ./tern ignores it when checking for a stale build
RESULTS=${RESULTS:-$WORK/results/$(date -u +%Y%m%dT%H%M%SZ)-$MODE}
if [ -z "${WRITE_DOCS:-}" ]; then
    WRITE_DOCS=$([ "$SCALE" = 1 ] && [ "$RUNS" -ge 3 ] && echo 1 || echo 0)
fi
HARAKA_VERSION=${HARAKA_VERSION:-3}
DRAIN_SECONDS=${DRAIN_SECONDS:-120}    # longest wait for the sink to see every acknowledged message
START_SECONDS=${START_SECONDS:-60}     # longest wait for a server's 220

log() { printf '%s compare: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

# Scaled count, at least MIN (default 1).
scaled() { python3 -c "import sys; print(max(int(sys.argv[3]), round(float(sys.argv[1]) * float(sys.argv[2]))))" \
    "$1" "$SCALE" "${2:-1}"; }

# ---------------------------------------------------------------------------------------------------------------
# Process bookkeeping: every background process is recorded and killed on exit.
PIDS=()
POSTFIX_CONF=""
cleanup() {
    local pid
    [ -n "$POSTFIX_CONF" ] && postfix -c "$POSTFIX_CONF" stop >/dev/null 2>&1 || true
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    sleep 0.5
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

stop_pid() { # stop_pid PID: TERM, then KILL after 10 s
    local pid=$1 i
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

# Runs a load command in the background and waits for it: bash runs an INT/TERM trap only after a foreground
# command ends, but interrupts 'wait' at once. The command is recorded, so the exit trap stops it too.
run_waiting() {
    "$@" &
    local pid=$!
    PIDS+=("$pid")
    wait "$pid"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_220() { # wait_for_220 PORT SECONDS
    python3 - "$1" "$2" <<'EOF'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(5)
            if s.recv(512).startswith(b"220"):
                s.sendall(b"QUIT\r\n")
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
EOF
}

# ---------------------------------------------------------------------------------------------------------------
# Installation of what is missing (Debian packages, Haraka from npm into the work dir).
install_missing() {
    local need=()
    command -v postfix >/dev/null || [ -x /usr/sbin/postfix ] || need+=(postfix)
    command -v smtp-source >/dev/null || [ -x /usr/sbin/smtp-source ] || need+=(postfix)
    command -v python3 >/dev/null || need+=(python3)
    command -v node >/dev/null || need+=(nodejs npm)
    if [ ${#need[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || die "missing ${need[*]}: install them (Debian)"
        log "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
    fi
    if [[ " $SERVERS " == *" haraka "* ]] && [ ! -x "$WORK/haraka-pkg/node_modules/.bin/haraka" ]; then
        local major
        major=$(node -p 'process.versions.node.split(".")[0]')
        [ "$major" -ge 20 ] || die "Haraka $HARAKA_VERSION needs Node 20+, found $(node --version)"
        log "installing Haraka@$HARAKA_VERSION from npm into $WORK/haraka-pkg"
        mkdir -p "$WORK/haraka-pkg"
        (cd "$WORK/haraka-pkg" && { [ -f package.json ] || npm init -y >/dev/null; } \
            && timeout 600 npm install --no-audit --no-fund "Haraka@$HARAKA_VERSION" >npm.log 2>&1) \
            || die "npm install Haraka failed: see $WORK/haraka-pkg/npm.log"
    fi
    export PATH="$PATH:/usr/sbin"
}

# ---------------------------------------------------------------------------------------------------------------
# The sink: a fresh one per run, so its counters start at zero.
SINK_PID=""
SINK_PORT=""
SINK_LOG=""
start_sink() { # start_sink RUN_DIR
    SINK_PORT=$(free_port)
    SINK_LOG=$1/sink.log
    # exec_tern_cli, not tern_cli: '$!' must be the sink's JVM, or stopping it would leave the JVM orphaned.
    exec_tern_cli sink --listen "127.0.0.1:$SINK_PORT" --interval 100ms >"$SINK_LOG" 2>&1 &
    SINK_PID=$!
    PIDS+=("$SINK_PID")
    wait_for_220 "$SINK_PORT" "$START_SECONDS" || die "sink did not start: $SINK_LOG"
}

sink_count() { # messages the sink has received so far
    local n
    n=$(grep -o 'messages [0-9][0-9]*' "$SINK_LOG" 2>/dev/null | tail -1 | cut -d' ' -f2)
    echo "${n:-0}"
}

wait_for_sink() { # wait_for_sink N: until the sink has N messages, at most DRAIN_SECONDS
    local i
    for i in $(seq 1 $((DRAIN_SECONDS * 20))); do
        [ "$(sink_count)" -ge "$1" ] && return 0
        sleep 0.05
    done
}

sink_integrity_failures() {
    local n
    n=$(grep -o 'integrity failures [0-9][0-9]*' "$SINK_LOG" 2>/dev/null | tail -1 | awk '{print $3}')
    echo "${n:-0}"
}

# ---------------------------------------------------------------------------------------------------------------
# Servers. Each start_<server> RUN_DIR sets SERVER_PORT and SERVER_PID (the process whose tree is measured) and
# SERVER_DURABILITY (what its 250 after DATA promises); stop_<server> stops it.
SERVER_PORT=""
SERVER_PID=""
SERVER_DURABILITY=""
CURRENT_LABEL=""   # the server's label in results.jsonl: tern, postfix, haraka, tern-<flags>

# JVM flag sets for Tern. profile: all of core/jvm.options (what ./tern uses); defaults: only its required part
# (above the "# --- tuning profile" line), the JVM choosing everything else; the others: required + one candidate.
TERN_FLAGS=profile
# The whole profile with any flag naming NAME dropped and FLAG added: a one-flag variant of core/jvm.options.
profile_with() { # profile_with NAME FLAG
    echo "$(TERN_FLAGS=profile tern_java_flags | tr ' ' '\n' | grep -v -- "$1" | tr '\n' ' ')" "$2"
}
tern_java_flags() {
    local required
    required=$(sed -n '1,/^# --- tuning profile/p' "$ROOT/core/jvm.options" | grep -v '^\s*#' | grep -v '^\s*$' \
        | tr '\n' ' ')
    case "$TERN_FLAGS" in
        profile) grep -v '^\s*#' "$ROOT/core/jvm.options" | grep -v '^\s*$' | tr '\n' ' ' ;;
        defaults) echo "$required" ;;
        g1) echo "$required -XX:+UseG1GC" ;;
        parallel) echo "$required -XX:+UseParallelGC" ;;
        zgc) echo "$required -XX:+UseZGC" ;;
        heap) echo "$required -Xms512m -Xmx512m -XX:+AlwaysPreTouch" ;;
        heap512) echo "$required -Xms512m -Xmx512m -XX:MaxDirectMemorySize=1g" ;;
        heap2g) echo "$required -Xms2g -Xmx2g -XX:MaxDirectMemorySize=1g" ;;
        vt2) echo "$required -Djdk.virtualThreadScheduler.parallelism=2" ;;
        vt1) echo "$required -Djdk.virtualThreadScheduler.parallelism=1" ;;
        profile-vt1) profile_with 'jdk.virtualThreadScheduler.parallelism' -Djdk.virtualThreadScheduler.parallelism=1 ;;
        profile-mtt15) profile_with 'MaxTenuringThreshold' -XX:MaxTenuringThreshold=15 ;;
        profile-vt2) profile_with 'jdk.virtualThreadScheduler.parallelism' -Djdk.virtualThreadScheduler.parallelism=2 ;;
        *) die "unknown JVM flag variant $TERN_FLAGS" ;;
    esac
}

# halfpeak records the relay with JFR: the JDK's default settings (about 1% overhead) plus every fdatasync.
TERN_JFR=""
JFR_SETTINGS="settings=default,jdk.FileForce#threshold=0ms,jdk.FileForce#stackTrace=false"
start_tern() {
    local dir=$1
    SERVER_PORT=$(free_port)
    # A short fixed path: the relay's admin socket lives in the data dir, and a Unix socket path has 108 bytes.
    local data="$WORK/tern-data"
    rm -rf "$data"
    # The launcher's java command, with the flags under test instead of the whole profile (see jvm-flags mode).
    # 50 connections to the next hop, as configured for Postfix (both default to 20).
    # shellcheck disable=SC2046
    "$JAVA_HOME/bin/java" $(tern_java_flags) \
        ${TERN_JFR:+"-XX:StartFlightRecording=filename=$TERN_JFR,$JFR_SETTINGS"} \
        -cp "$ROOT/loadgen/target/classes:$ROOT/loadgen/target/lib/*" dev.tern.cli.Main relay \
        --listen "127.0.0.1:$SERVER_PORT" --data-dir "$data" \
        --smarthost "127.0.0.1:$SINK_PORT" --durability "$DURABILITY" \
        --destination-limits "connections=50 per-connection=100 per-second=0 per-minute=0" \
        >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    SERVER_DURABILITY="$DURABILITY: group commit before 250"
    wait_for_220 "$SERVER_PORT" "$START_SECONDS" || die "tern relay did not start: $dir/server.log"
}
stop_tern() { stop_pid "$SERVER_PID"; }

start_postfix() {
    local dir=$1 conf="$WORK/postfix-conf" queue="$WORK/postfix-queue"
    SERVER_PORT=$(free_port)
    mkdir -p "$conf" "$queue" "$WORK/postfix-data"
    sed -e "s|@LISTEN@|127.0.0.1:$SERVER_PORT|" "$HERE/postfix/master.cf.in" >"$conf/master.cf"
    sed -e "s|@QUEUE_DIR@|$queue|; s|@DATA_DIR@|$WORK/postfix-data|; s|@SINK_PORT@|$SINK_PORT|" \
        -e "s|@LOG@|$dir/server.log|; s|@WORK@|$WORK|; s|@PROCESS_LIMIT@|${POSTFIX_PROCESS_LIMIT:-100}|" \
        "$HERE/postfix/main.cf.in" >"$conf/main.cf"
    chown postfix "$WORK/postfix-data"
    postfix -c "$conf" set-permissions >/dev/null 2>&1 || true
    postfix -c "$conf" check >"$dir/postfix-check.log" 2>&1 || die "postfix check failed: $dir/postfix-check.log"
    postsuper -c "$conf" -d ALL >/dev/null 2>&1 || true   # nothing left over from an earlier run
    POSTFIX_CONF=$conf
    postfix -c "$conf" start >>"$dir/postfix-check.log" 2>&1 || die "postfix start failed: $dir/postfix-check.log"
    SERVER_PID=$(tr -d ' \n' <"$queue/pid/master.pid")
    SERVER_DURABILITY="fsync per message before 250"
    wait_for_220 "$SERVER_PORT" "$START_SECONDS" || die "postfix did not start: $dir/server.log"
}
stop_postfix() {
    postfix -c "$POSTFIX_CONF" stop >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    POSTFIX_CONF=""
}

start_haraka() {
    local dir=$1 home="$WORK/haraka-home"
    SERVER_PORT=$(free_port)
    rm -rf "$home"
    # haraka -i writes a complete instance (connection.ini and the rest); the bench's files then replace its own.
    node "$WORK/haraka-pkg/node_modules/Haraka/bin/haraka" -i "$home" >"$dir/haraka-init.log" 2>&1 \
        || die "haraka -i failed: $dir/haraka-init.log"
    rm -f "$home/config/host_list"
    cp "$HERE"/haraka/{relay.ini,relay_dest_domains.ini,log.ini} "$home/config/"
    cp "$HERE"/haraka/plugins.in "$home/config/plugins"
    cp "$HERE"/haraka/plugins/*.js "$home/plugins/"
    sed "s|@PORT@|$SERVER_PORT|" "$HERE/haraka/smtp.ini.in" >"$home/config/smtp.ini"
    sed "s|@SINK_PORT@|$SINK_PORT|" "$HERE/haraka/smtp_forward.ini.in" >"$home/config/smtp_forward.ini"
    echo "haraka.bench.tern.test" >"$home/config/me"
    node "$WORK/haraka-pkg/node_modules/Haraka/bin/haraka" -c "$home" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    SERVER_DURABILITY="none on disk; 250 after the sink's 250"
    wait_for_220 "$SERVER_PORT" "$START_SECONDS" || die "haraka did not start: $dir/server.log"
}
stop_haraka() { stop_pid "$SERVER_PID"; }

# ---------------------------------------------------------------------------------------------------------------
# Scenarios. Each run_<scenario> RUN_DIR drives load at 127.0.0.1:SERVER_PORT and writes RUN_DIR/load.json with
# at least: acknowledged, accepted_mps, p50_ms, p99_ms (end of data), or the idle-sessions figures.
# The load generator against the server under test, its JSON report into OUT (stderr into OUT's .err); a failed
# run leaves OUT short, which the readers of OUT report.
run_loadgen() { # run_loadgen OUT loadgen-args...
    local out=$1
    shift
    run_waiting exec_tern_cli loadgen --target "127.0.0.1:$SERVER_PORT" --json --quiet --drain-timeout 60s \
        --reply-timeout 120s "$@" >"$out" 2>"${out%.json}.err" || true
}

loadgen_json() { # loadgen_json RUN_DIR loadgen-args...
    local dir=$1
    shift
    run_loadgen "$dir/loadgen.json" -o "$dir/loadgen" "$@"
    python3 - "$dir/loadgen.json" >"$dir/load.json" <<'EOF'
import datetime, json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print(json.dumps({"error": "loadgen produced no report"})); sys.exit(0)
eod = r["latency_ms"]["end_of_data"]
started = datetime.datetime.fromisoformat(r["started_at"].replace("Z", "+00:00")).timestamp()
m = r["messages"]
print(json.dumps({"started_epoch": started, "acknowledged": m["acknowledged"], "started": m["started"],
                  "tempfailed": m["tempfailed"], "rejected": m["rejected"],
                  "errors": m["failed_by_error"], "accepted_mps": r["messages_per_second"],
                  "p50_ms": eod["p50"], "p99_ms": eod["p99"], "p90_ms": eod["p90"], "p999_ms": eod["p999"],
                  "mail_p99_ms": r["latency_ms"]["mail"]["p99"], "rate": r["spec"]["rate"]}))
EOF
}

# Unmeasured load before the measured run (WARMUP_TIME seconds), then a wait until the sink has it all, so the
# measured run starts from an idle, warmed-up server with an empty queue behind it. The warm-up pipelines only
# when the measured load does: a JIT warmed on pipelined batches recompiles the session's paths when the first
# unpipelined commands arrive (uncommon traps, seen with -XX:+PrintCompilation), inside the measured run. The
# medium and large scenarios then get a short load of their own size: their runs last a second or two, and a JVM
# warmed on 1 KiB messages compiled its large-body paths inside them (a relay spent 52 CPU-ms per 10 MiB message
# in its first 20 of them, 16-19 from the second 20 on). The smtp-source scenarios end theirs with a short run of
# smtp-source itself: it says HELO, which the load generator never does, and Tern's C2 code for the command path
# (CommandParser.identifyVerb, SessionEngine.command) was thrown away at the measured run's first HELO (an uncommon
# trap, -XX:+PrintCompilation) and ran profiled C1 code until C2 compiled it again.
warm_up() { # warm_up RUN_DIR SCENARIO
    local acked sized=0 pipelining=--pipelining
    [ "${WARMUP_TIME:-0}" != 0 ] || return 0
    case $2 in small-nopipe | smtp-source*) pipelining=--no-pipelining ;; esac
    run_loadgen "$1/warmup.json" -s 1k -c 50 "$pipelining" --duration "${WARMUP_TIME}s"
    acked=$(acknowledged_in "$1/warmup.json")
    case $2 in
        medium) run_loadgen "$1/warmup-sized.json" -s 100k -n "$(scaled 1000 20)" -c "$(scaled 50 2)" ;;
        # shellcheck disable=SC2046 # word splitting of the options is intended
        large) run_loadgen "$1/warmup-sized.json" $(large_load) ;;
        smtp-source) smtp_source_warm_up "$1" -d ;;
        smtp-source-connect) smtp_source_warm_up "$1" ;;
    esac
    [ -s "$1/warmup-sized.json" ] && sized=$(acknowledged_in "$1/warmup-sized.json")
    acked=$((acked + sized))
    wait_for_sink "$acked"
    sleep 0.2   # the sink's stats line lags by up to its 100 ms interval
    log "warm-up: $acked messages ($sized of the scenario's size) in ${WARMUP_TIME}s and after, $(sink_count) at the sink"
}

acknowledged_in() { # acknowledged_in LOADGEN_JSON: its acknowledged count, 0 when unreadable
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['messages']['acknowledged'])" "$1" \
        2>/dev/null || echo 0
}

run_small() {
    loadgen_json "$1" -s 1k -n "$(scaled 50000 100)" -c "$(scaled 50 2)" --pipelining --warmup "${WARMUP:-0}"
}
run_small-nopipe() {
    loadgen_json "$1" -s 1k -n "$(scaled 50000 100)" -c "$(scaled 50 2)" --no-pipelining --warmup "${WARMUP:-0}"
}
# Open loop at half of this server's own peak: the median accepted rate of its small runs earlier in this run.
# Latency counts from each message's due time (coordinated omission corrected); about 15 s of load.
run_halfpeak() {
    local rate
    rate=${HALFPEAK_RATE:-$(python3 - "$RESULTS/results.jsonl" "$CURRENT_LABEL" <<'EOF'
import json, statistics, sys
try:
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
except OSError:
    rows = []
rates = [r["accepted_mps"] for r in rows if r["scenario"] == "small" and r["server"] == sys.argv[2]
         and isinstance(r.get("accepted_mps"), (int, float))]
print(round(statistics.median(rates) / 2) if rates else "")
EOF
)}
    if [ -z "$rate" ]; then
        echo '{"error": "no small-scenario rate in this run to halve (run small first, or set HALFPEAK_RATE)"}' \
            >"$1/load.json"
        return 0
    fi
    # 16.5 s of messages, the first 1.5 s unmeasured; both scaled, so a smoke run still measures most of its load.
    loadgen_json "$1" -s 1k -c "$(scaled 50 2)" --pipelining --rate "$rate" \
        --warmup-time "$(python3 -c "import sys; print(round(1500 * float(sys.argv[1])))" "$SCALE")ms" \
        -n "$(python3 -c "import sys; print(max(200, round(float(sys.argv[1]) * 16.5 * float(sys.argv[2]))))" \
            "$rate" "$SCALE")"
}

# What the relay's JFR recording (halfpeak) shows for the measured load, from the load generator's start on:
# fdatasync durations and GC pauses, added to RUN_DIR/load.json.
add_jfr_summary() { # add_jfr_summary RUN_DIR
    local dir=$1
    [ -s "$dir/relay.jfr" ] || return 0
    "$JAVA_HOME/bin/jfr" print --json --events jdk.FileForce,jdk.GCPhasePause "$dir/relay.jfr" \
        >"$dir/relay-jfr.json" 2>"$dir/relay-jfr.err" || return 0
    python3 - "$dir/load.json" "$dir/relay-jfr.json" >"$dir/load.json.new" <<'EOF' && mv "$dir/load.json.new" "$dir/load.json"
import datetime, json, re, sys
load = json.load(open(sys.argv[1]))
events = json.load(open(sys.argv[2]))["recording"]["events"]
since = load.get("started_epoch") or 0
def ms(iso):  # ISO-8601 durations as jfr prints them: PT0.000198S, PT1M2.5S
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", iso)
    return ((int(m[1] or 0) * 60 + int(m[2] or 0)) * 60 + float(m[3] or 0)) * 1000 if m else 0.0
def at(iso):  # 2026-11-25T21:45:05.041222179Z, to microseconds
    return datetime.datetime.fromisoformat(iso[:26].rstrip("Z") + "+00:00").timestamp()
fsync = sorted(ms(e["values"]["duration"]) for e in events
               if e["type"] == "jdk.FileForce" and at(e["values"]["startTime"]) >= since)
gc = [ms(e["values"]["duration"]) for e in events
      if e["type"] == "jdk.GCPhasePause" and at(e["values"]["startTime"]) >= since]
q = lambda p: round(fsync[min(len(fsync) - 1, int(p * len(fsync)))], 3) if fsync else None
load.update({"fsyncs": len(fsync), "fsync_p50_ms": q(0.5), "fsync_p99_ms": q(0.99), "fsync_p999_ms": q(0.999),
             "gc_pauses": len(gc), "gc_pause_max_ms": round(max(gc), 2) if gc else 0,
             "gc_pause_total_ms": round(sum(gc), 1)})
print(json.dumps(load))
EOF
    rm -f "$dir/relay-jfr.json"
}

run_medium() {
    loadgen_json "$1" -s 100k -n "$(scaled 5000 20)" -c "$(scaled 50 2)"
}
large_load() { # the large scenario's load generator options, measured and warm-up alike
    echo -s 10m -n "$(scaled 20 2)" -c "$(scaled 10 2)"
}
run_large() {
    # shellcheck disable=SC2046 # word splitting of the options is intended
    loadgen_json "$1" $(large_load)
}
run_idle() {
    run_waiting python3 "$HERE/idle_sessions.py" --target "127.0.0.1:$SERVER_PORT" \
        --connections "$(scaled 10000 10)" \
        --pid "$SERVER_PID" --open-deadline 30 >"$1/load.json" 2>"$1/idle.err" \
        || echo '{"error": "idle_sessions failed"}' >"$1/load.json"
}
run_smtp-source() { # Postfix's generator as the issue describes it: 20 sessions, reused connections (-d)
    smtp_source_json "$1" -d
}
run_smtp-source-connect() { # the same with a new connection per message (smtp-source's default)
    smtp_source_json "$1"
}
smtp_source_warm_up() { # smtp_source_warm_up DIR [SMTP-SOURCE OPTION...]: the measured client, unmeasured
    local dir=$1 n
    shift
    n=$(scaled 2000 20)
    run_waiting timeout 120 smtp-source "$@" -s "$(scaled 20 2)" -m "$n" -l 1024 -f load@smtp-source.tern.test \
        -t rcpt@sink.tern.test 127.0.0.1:"$SERVER_PORT" >"$dir/warmup-smtp-source.log" 2>&1 || true
    echo "{\"messages\": {\"acknowledged\": $n}}" >"$dir/warmup-sized.json"
}
smtp_source_json() { # smtp_source_json DIR [SMTP-SOURCE OPTION...]
    local dir=$1 n sessions start end
    shift
    n=$(scaled 20000 100)
    sessions=$(scaled 20 2)
    start=$(date +%s.%N)
    # -s parallel sessions, -m messages, -l body bytes; no pipelining (smtp-source has none).
    run_waiting timeout 600 smtp-source "$@" -s "$sessions" -m "$n" -l 1024 -f load@smtp-source.tern.test \
        -t rcpt@sink.tern.test \
        127.0.0.1:"$SERVER_PORT" >"$dir/smtp-source.log" 2>&1 || true
    end=$(date +%s.%N)
    python3 -c "import json,sys; n,s,e=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]);
print(json.dumps({'started_epoch': s, 'acknowledged': n, 'accepted_mps': n/(e-s), 'p50_ms': None, 'p99_ms': None,
                  'errors': int(sys.argv[4])}))" "$n" "$start" "$end" "$(grep -c . "$dir/smtp-source.log" || true)" \
        >"$dir/load.json"
}

# ---------------------------------------------------------------------------------------------------------------
# One run: fresh sink and server, load, wait until the sink has every acknowledged message, measure, stop.
one_run() { # one_run SERVER SCENARIO RUN_NUMBER [LABEL]
    local server=$1 scenario=$2 run=$3 label=${4:-$1} dir acked cpu0 cpu1 hwm anon t0 t_load t_e2e sunk0
    dir=$RESULTS/runs/$scenario/$label-$run
    mkdir -p "$dir"
    log "$scenario / $label / run $run"
    CURRENT_LABEL=$label
    TERN_JFR=$([ "$scenario" = halfpeak ] && echo "$dir/relay.jfr" || true)
    start_sink "$dir"
    "start_$server" "$dir"
    if [ "$scenario" != idle ]; then
        warm_up "$dir" "$scenario"
    fi
    sunk0=$(sink_count)
    cpu0=$(python3 "$HERE/procstats.py" cpu "$SERVER_PID")
    t0=$(date +%s.%N)
    "run_$scenario" "$dir"
    t_load=$(date +%s.%N)
    acked=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('acknowledged', 0) or 0)" \
        "$dir/load.json")
    if [ "$scenario" = idle ]; then acked=0; fi
    # End to end: until the sink has seen every acknowledged message (bounded by DRAIN_SECONDS).
    wait_for_sink $((sunk0 + acked))
    t_e2e=$(date +%s.%N)
    sleep 0.2   # the sink's stats line lags by up to its 100 ms interval
    cpu1=$(python3 "$HERE/procstats.py" cpu "$SERVER_PID")
    hwm=$(python3 "$HERE/procstats.py" hwm "$SERVER_PID")
    anon=$(python3 "$HERE/procstats.py" anon "$SERVER_PID")
    "stop_$server"
    stop_pid "$SINK_PID"
    add_jfr_summary "$dir"
    python3 - "$dir/load.json" >>"$RESULTS/results.jsonl" <<EOF
import json, sys
load = json.load(open(sys.argv[1]))
acked, sunk = $acked, $(sink_count) - $sunk0
t0, t_load, t_e2e = $t0, $t_load, $t_e2e
# The load generator's own start, not t0: a JVM's start-up must not count against the server.
started = load.get("started_epoch") or t0
row = {"server": "$label", "scenario": "$scenario", "run": $run, "durability": "$SERVER_DURABILITY",
       "sink_messages": sunk, "integrity_failures": $(sink_integrity_failures),
       "e2e_mps": (sunk / (t_e2e - started)) if acked and sunk >= acked else None,
       "e2e_complete": sunk >= acked,
       "cpu_s": round($cpu1 - $cpu0, 2),
       "cpu_s_per_1k": round(($cpu1 - $cpu0) * 1000 / acked, 3) if acked else None,
       "peak_rss_mib": round($hwm / 1024, 1), "anon_rss_mib_end": round($anon / 1024, 1),
       "load_seconds": round(t_load - t0, 2)}
row.update(load)
print(json.dumps(row))
EOF
}

# Synced-write limits of the disk under the work dir: what any durable server here can reach at best.
# dd with oflag=dsync syncs every write. Overwriting a preallocated file syncs data only (a journal's case);
# appending also syncs the growing file's metadata (closer to a queue file per message).
dd_seconds() { # dd_seconds dd-args...: seconds dd reports, or nothing
    timeout 120 dd "$@" 2>&1 | tail -1 | sed -n 's/.* copied, \([0-9.e+-]*\) s.*/\1/p' || true
}
measure_disk() {
    local f="$WORK/dsync.test" n=${DISK_SYNC_WRITES:-2000} mib=${DISK_SYNC_MIB:-128} over append big
    dd if=/dev/zero of="$f" bs=1M count="$mib" conv=fsync status=none
    over=$(dd_seconds if=/dev/zero of="$f" bs=4k count="$n" oflag=dsync conv=notrunc)
    big=$(dd_seconds if=/dev/zero of="$f" bs=1M count="$mib" oflag=dsync conv=notrunc)
    rm -f "$f"
    append=$(dd_seconds if=/dev/zero of="$f" bs=4k count="$n" oflag=dsync)
    rm -f "$f"
    # The large scenario's own pattern: 20 x 10 MiB, each synced, appended to a fresh file (fresh pages cost more
    # than cached ones on this kind of VM).
    fresh=$(dd_seconds if=/dev/zero of="$f" bs=10M count=20 oflag=dsync)
    rm -f "$f"
    python3 - "$n" "$mib" "${over:-0}" "${append:-0}" "${big:-0}" "${fresh:-0}" >"$RESULTS/disk.json" <<'EOF'
import json, sys
n, mib, over, append, big, fresh = int(sys.argv[1]), int(sys.argv[2]), *map(float, sys.argv[3:])
print(json.dumps({"sync_writes_4k_per_s": round(n / over) if over else None,
                  "sync_appends_4k_per_s": round(n / append) if append else None,
                  "synced_mib_per_s_1m": round(mib / big, 1) if big else None,
                  "synced_mib_per_s_10m_fresh": round(200 / fresh, 1) if fresh else None,
                  "method": f"dd oflag=dsync: {n} x 4 KiB over a preallocated file, {n} x 4 KiB appended, "
                            f"{mib} x 1 MiB over a preallocated file, 20 x 10 MiB appended to a new file"}))
EOF
    log "disk: $(cat "$RESULTS/disk.json")"
}

machine_json() {
    python3 - "$WORK" >"$RESULTS/machine.json" <<'EOF'
import json, os, platform, subprocess, sys
mem = next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
df = subprocess.run(["df", "--output=source,fstype", sys.argv[1]], capture_output=True, text=True)
dev = df.stdout.split("\n")[1]
print(json.dumps({"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(int(mem) / 1024 / 1024, 1),
                  "disk": " ".join(dev.split()), "kernel": platform.release(),
                  "load_avg_at_start": os.getloadavg()[0]}))
EOF
}

versions_json() {
    {
        echo "{"
        echo "\"tern\": \"$(cd "$ROOT" && git rev-parse --short HEAD)\","
        echo "\"java\": \"$("$JAVA_HOME/bin/java" -version 2>&1 | head -1 | tr -d '"')\","
        echo "\"postfix\": \"$(postconf -d mail_version 2>/dev/null | cut -d' ' -f3)\","
        echo "\"haraka\": \"$(node -p "require('$WORK/haraka-pkg/node_modules/Haraka/package.json').version" \
            2>/dev/null)\","
        echo "\"node\": \"$(node --version 2>/dev/null)\""
        echo "}"
    } >"$RESULTS/versions.json"
}

find_jdk25() { # the JDK the launcher would pick: JAVA_HOME if 25+, else the first 25+ under /usr/lib/jvm
    local c v
    for c in ${JAVA_HOME:-} /usr/lib/jvm/*; do
        [ -x "$c/bin/java" ] || continue
        v=$("$c/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
        if [ "${v:-0}" -ge 25 ] 2>/dev/null; then
            export JAVA_HOME=$c
            return 0
        fi
    done
    die "no JDK 25+ found (set JAVA_HOME)"
}

relay_available() {
    tern_cli relay --help >/dev/null 2>&1
}

# Sink and load generator: the launcher's java command with the shipped profile. Not ./tern itself, which rebuilds
# when a source is newer than its last build: a rebuild in the middle of a run would load the machine.
tern_cli() {
    (exec_tern_cli "$@")
}
# The same as the process itself: run in the background, '$!' is then the JVM (not a subshell above it), so
# stopping that process stops the JVM.
exec_tern_cli() {
    # shellcheck disable=SC2046
    exec "$JAVA_HOME/bin/java" $(grep -v '^\s*#' "$ROOT/core/jvm.options" | grep -v '^\s*$' | tr '\n' ' ') \
        -cp "$ROOT/loadgen/target/classes:$ROOT/loadgen/target/lib/*" dev.tern.cli.Main "$@"
}

# ---------------------------------------------------------------------------------------------------------------
main() {
    ulimit -n 20000 2>/dev/null || true   # 10,000 idle sessions need that many descriptors on both ends
    mkdir -p "$WORK" "$RESULTS"
    WORK=$(cd "$WORK" && pwd)
    install_missing
    "$ROOT/tern" --version >/dev/null   # builds Tern if stale, so no run pays for it
    find_jdk25
    local servers="$SERVERS" scenarios="$SCENARIOS" runs="$RUNS" server scenario run
    if [ "$MODE" = jvm-flags ]; then
        servers=tern
        scenarios=${FLAG_SCENARIOS:-small}
    fi
    if [[ " $servers " == *" tern "* ]] && ! relay_available; then
        log "./tern relay is not available yet: Tern is left out of this run"
        servers=${servers//tern/}
    fi
    machine_json
    versions_json
    measure_disk
    echo "$0 $* (MODE=$MODE SCALE=$SCALE RUNS=$RUNS SERVERS=\"$servers\" SCENARIOS=\"$scenarios\")" \
        >"$RESULTS/command.txt"
    local variants=profile
    [ "$MODE" = jvm-flags ] && variants=${FLAG_VARIANTS:-defaults profile}
    # Alternate: run 1 of every server, then run 2 of every server... so drift in the shared machine's load
    # spreads over all servers instead of landing on one.
    for scenario in $scenarios; do
        for run in $(seq 1 "$runs"); do
            for server in $servers; do
                for TERN_FLAGS in $variants; do
                    if [ "$MODE" = jvm-flags ]; then
                        one_run "$server" "$scenario" "$run" "tern-$TERN_FLAGS"
                    else
                        one_run "$server" "$scenario" "$run"
                    fi
                done
            done
        done
    done
    python3 "$HERE/report.py" "$RESULTS" "$MODE" >"$RESULTS/report.md"
    cat "$RESULTS/report.md"
    if [ "$WRITE_DOCS" = 1 ]; then
        python3 "$HERE/report.py" "$RESULTS" "$MODE" --docs "$ROOT/docs"
        log "wrote the report into $ROOT/docs"
    fi
    log "results in $RESULTS"
}

# One line, so bash has read the whole file before it runs: editing the script during a run cannot derail it.
main "$@"; exit $?
