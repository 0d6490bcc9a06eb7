#!/usr/bin/env bash
# Local servers for streamtrain.
#
#   PostgreSQL 127.0.0.1:5432 and RabbitMQ 127.0.0.1:5672 belong to the machine: `up` starts them
#   if they are down, `down` leaves them alone.
#   Kafka 127.0.0.1:9092 is a single-node KRaft broker (Apache Kafka 4.1.1) run straight from its
#   Maven Central jars; this script owns it: fetches, formats, starts and stops it.
#
# Usage: infra/local.sh up | down | status | logs [-f] | fetch | tool <java-class> [args...]
# State (jars, broker data, logs, pid file) lives in ${STREAMTRAIN_STATE_DIR:-<repo>/.local}.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA_DIR="$REPO_ROOT/infra"

STATE_DIR="${STREAMTRAIN_STATE_DIR:-$REPO_ROOT/.local}"
# The broker runs detached from the caller's directory, so every path it gets must be absolute.
case "$STATE_DIR" in /*) ;; *) STATE_DIR="$PWD/$STATE_DIR" ;; esac

KAFKA_HOME="$STATE_DIR/kafka"
KAFKA_LIB="$KAFKA_HOME/lib"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_CONFIG="$KAFKA_HOME/config/server.properties"
KAFKA_PID_FILE="$KAFKA_HOME/kafka.pid"
LOG_DIR="$STATE_DIR/logs"
KAFKA_LOG="$LOG_DIR/server.log"       # written by log4j2 (infra/kafka/log4j2.xml)
KAFKA_OUT="$LOG_DIR/kafka.out"        # the JVM's own stdout/stderr: crashes before log4j starts
KAFKA_HEAP="${KAFKA_HEAP:--Xmx512m}"
KAFKA_HOST=127.0.0.1
# Another port (and state dir) runs a second broker, e.g. the fault suite's own, which it restarts.
KAFKA_PORT="${STREAMTRAIN_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${STREAMTRAIN_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_START_TIMEOUT=90
KAFKA_STOP_TIMEOUT=30
DATABASE=streamtrain

say() { printf '%s\n' "$*"; }
die() { printf 'local.sh: %s\n' "$*" >&2; exit 1; }

# A TCP connect is enough to tell whether something listens; it costs no JVM start.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Wait until `check` succeeds, giving up after `timeout` seconds.
wait_for() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

# ---------------------------------------------------------------------------------------------------
# PostgreSQL and RabbitMQ

postgres_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }

postgres_up() {
  if ! postgres_ready; then
    local version
    version="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)"
    say "postgres: starting cluster $version/main"
    # --skip-systemctl-redirect: there is no systemd in the dev containers.
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for 30 postgres_ready || die "postgres: not accepting connections after 30 s"
  fi
  local exists
  exists="$(psql -h 127.0.0.1 -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")"
  if [[ "$exists" != 1 ]]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DATABASE" >/dev/null
    say "postgres: created database $DATABASE"
  fi
  say "postgres: up on 127.0.0.1:5432 (database $DATABASE)"
}

rabbitmq_ready() { port_open 127.0.0.1 5672; }

rabbitmq_up() {
  if ! rabbitmq_ready; then
    say "rabbitmq: starting"
    rabbitmq-server -detached
    # The AMQP listener opens last, once the broker's boot steps are done, so it is the signal
    # clients care about.
    wait_for 60 rabbitmq_ready || die "rabbitmq: port 5672 not open after 60 s (see /var/log/rabbitmq)"
  fi
  say "rabbitmq: up on 127.0.0.1:5672"
}

# ---------------------------------------------------------------------------------------------------
# Kafka

# Run a Kafka command-line class (TopicCommand, ConsoleProducer, ...) on the fetched jars.
kafka_tool() {
  java -Dlog4j2.configurationFile="$INFRA_DIR/kafka/tools-log4j2.xml" -cp "$KAFKA_LIB/*" "$@"
}

# Prints the pid of the broker this script started, if it is still alive; forgets stale pid files
# so that a crashed broker or a reboot does not block the next `up`.
kafka_pid() {
  [[ -f "$KAFKA_PID_FILE" ]] || return 0
  local pid
  pid="$(<"$KAFKA_PID_FILE")"
  # Checking the command line guards against the pid having been reused by another process.
  if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka'; then
    printf '%s\n' "$pid"
  else
    rm -f "$KAFKA_PID_FILE"
  fi
}

# An open port is not enough: the socket accepts connections before the broker has joined the
# quorum. Listing topics needs a working metadata path.
kafka_ready() {
  port_open "$KAFKA_HOST" "$KAFKA_PORT" &&
    timeout 20 java -Dlog4j2.configurationFile="$INFRA_DIR/kafka/tools-log4j2.xml" \
      -cp "$KAFKA_LIB/*" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" --list >/dev/null 2>&1
}

# The jars are fetched once and cached; the pom's checksum is kept beside them so that changing the
# pom (a Kafka upgrade) fetches again.
kafka_fetch_jars() {
  local stamp="$KAFKA_LIB/.pom.sha256" want
  want="$(sha256sum "$INFRA_DIR/kafka/pom.xml" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(<"$stamp")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "kafka: mvn not found; it is needed once to fetch the Kafka jars"
  say "kafka: fetching jars (first run only)…"
  local staging="$KAFKA_HOME/lib.partial" mvn_log="$LOG_DIR/mvn-fetch.log"
  rm -rf "$staging"
  mkdir -p "$KAFKA_HOME" "$LOG_DIR"
  if ! mvn -q -B -f "$INFRA_DIR/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$staging" >"$mvn_log" 2>&1; then
    tail -n 30 "$mvn_log" >&2
    die "kafka: fetching jars failed (full output in $mvn_log)"
  fi
  # Swap in the complete directory only, so an interrupted fetch is never mistaken for a cache.
  rm -rf "$KAFKA_LIB"
  mv "$staging" "$KAFKA_LIB"
  printf '%s\n' "$want" >"$stamp"
}

kafka_render_config() {
  mkdir -p "$(dirname "$KAFKA_CONFIG")" "$KAFKA_DATA" "$LOG_DIR"
  sed -e "s|@DATA_DIR@|$KAFKA_DATA|g" -e "s|@PORT@|$KAFKA_PORT|g" \
    -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    "$INFRA_DIR/kafka/server.properties.template" >"$KAFKA_CONFIG"
}

# KRaft refuses to start on unformatted storage. Formatting happens once; later runs reuse the data.
kafka_format_storage() {
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
  local cluster_id output
  cluster_id="$(kafka_tool kafka.tools.StorageTool random-uuid)"
  say "kafka: formatting storage (cluster id $cluster_id)"
  # Static quorum (controller.quorum.voters), hence no --standalone.
  if ! output="$(kafka_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_CONFIG" \
      --ignore-formatted 2>&1)"; then
    printf '%s\n' "$output" >&2
    die "kafka: formatting storage failed"
  fi
}

kafka_fail() {
  say "kafka: $1" >&2
  say "--- tail of $KAFKA_LOG" >&2
  tail -n 40 "$KAFKA_LOG" >&2 2>/dev/null || true
  say "--- tail of $KAFKA_OUT" >&2
  tail -n 20 "$KAFKA_OUT" >&2 2>/dev/null || true
  exit 1
}

kafka_wait_ready() {
  local pid=$1 deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until kafka_ready; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$KAFKA_PID_FILE"; kafka_fail "broker exited during startup"; }
    ((SECONDS < deadline)) || kafka_fail "broker (pid $pid) not ready after ${KAFKA_START_TIMEOUT} s"
    sleep 1
  done
}

kafka_up() {
  local pid
  pid="$(kafka_pid)"
  if [[ -n "$pid" ]]; then
    if ! kafka_ready; then
      say "kafka: started earlier (pid $pid), waiting until it answers"
      kafka_wait_ready "$pid"
    fi
    say "kafka: up on $KAFKA_HOST:$KAFKA_PORT (pid $pid, already running)"
    return 0
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    say "kafka: something not started by local.sh already answers on $KAFKA_HOST:$KAFKA_PORT; leaving it alone"
    return 0
  fi

  command -v java >/dev/null || die "kafka: java not found (Java 17+ is needed)"
  kafka_fetch_jars
  kafka_render_config
  kafka_format_storage

  local heap
  read -ra heap <<<"$KAFKA_HEAP"
  # setsid: the broker gets its own session, so it outlives the shell (or the tool runner's process
  # group) that ran `up`. Without job control a background child is no group leader, so setsid
  # does not fork again and $! is the JVM's pid. 9>&-: the broker must not inherit the lock.
  nohup setsid java "${heap[@]}" -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" \
    -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_CONFIG" \
    >>"$KAFKA_OUT" 2>&1 </dev/null 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$KAFKA_PID_FILE"
  say "kafka: starting (pid $pid)"
  kafka_wait_ready "$pid"
  say "kafka: up on $KAFKA_HOST:$KAFKA_PORT (pid $pid)"
}

kafka_down() {
  local pid
  pid="$(kafka_pid)"
  if [[ -z "$pid" ]]; then
    say "kafka: not running (no broker started by local.sh)"
    return 0
  fi
  # SIGTERM runs the broker's controlled shutdown, which flushes logs and writes a clean-shutdown
  # marker, so the next start skips log recovery.
  kill -TERM "$pid"
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "kafka: still running after ${KAFKA_STOP_TIMEOUT} s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$KAFKA_PID_FILE"
  say "kafka: stopped (pid $pid)"
}

# ---------------------------------------------------------------------------------------------------
# Commands

# Serialises `up` and `down`, so that test runners calling `up` in parallel start one broker, not two.
take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.local.sh.lock"
  flock 9
}

cmd_up() {
  take_lock
  postgres_up
  rabbitmq_up
  kafka_up
}

cmd_down() {
  take_lock
  kafka_down
}

# One line per server; exits 1 if any is down, so scripts can use it as a precondition.
cmd_status() {
  local all_up=0 pid
  if postgres_ready; then say "postgres  up    127.0.0.1:5432"; else say "postgres  down"; all_up=1; fi
  if rabbitmq_ready; then say "rabbitmq  up    127.0.0.1:5672"; else say "rabbitmq  down"; all_up=1; fi
  pid="$(kafka_pid)"
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    if [[ -n "$pid" ]]; then
      say "kafka     up    $KAFKA_HOST:$KAFKA_PORT (pid $pid)"
    else
      say "kafka     up    $KAFKA_HOST:$KAFKA_PORT (not started by local.sh)"
    fi
  elif [[ -n "$pid" ]]; then
    say "kafka     down  (pid $pid alive but port $KAFKA_PORT closed: starting or stuck)"; all_up=1
  else
    say "kafka     down"; all_up=1
  fi
  return "$all_up"
}

cmd_logs() {
  [[ -f "$KAFKA_LOG" ]] || die "no broker log yet at $KAFKA_LOG (run: infra/local.sh up)"
  if [[ "${1:-}" == "-f" ]]; then
    exec tail -n 100 -F "$KAFKA_LOG"
  fi
  tail -n 100 "$KAFKA_LOG"
}

cmd_tool() {
  (($# > 0)) || die "usage: local.sh tool <java-class> [args...], e.g. org.apache.kafka.tools.TopicCommand --bootstrap-server $KAFKA_HOST:$KAFKA_PORT --list"
  [[ -f "$KAFKA_LIB/.pom.sha256" ]] || die "kafka jars not fetched yet (run: infra/local.sh up)"
  kafka_tool "$@"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    tool) cmd_tool "$@" ;;
    # The jars only (infra/kafka/secure-broker.sh runs its own broker on them).
    fetch) take_lock; kafka_fetch_jars; printf '%s\n' "$KAFKA_LIB" ;;
    *)
      say "usage: infra/local.sh up | down | status | logs [-f] | fetch | tool <java-class> [args...]" >&2
      exit 2
      ;;
  esac
}

main "$@"
