#!/usr/bin/env bash
# A second, throw-away Kafka broker with secured listeners, for the secure-connection tests and for
# trying the client settings of docs/OPERATIONS.md ("Connecting to your infrastructure"). It runs
# beside the development broker of infra/local.sh (which it never touches) on the same jars.
#
#   127.0.0.1:$BASE+0  SSL             TLS, client certificate required (mutual TLS)
#   127.0.0.1:$BASE+1  SASL_PLAINTEXT  PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (unsecured JWS)
#   127.0.0.1:$BASE+2  SASL_SSL        the same mechanisms over TLS (server certificate only)
#   127.0.0.1:$BASE+3  PLAINTEXT       inter-broker traffic and the tests' setup
#   127.0.0.1:$BASE+4  CONTROLLER
#
# Certificates are made with keytool (a CA, the broker's keystore and truststore, a client's
# keystore) and exported as PEM for Node.js clients; the client key is exported with openssl.
# SCRAM users are created when the storage is formatted (KRaft bootstrap, StorageTool --add-scram).
#
# Usage: infra/kafka/secure-broker.sh up | down | env
#   up    makes certificates (once), formats storage (once), starts the broker, waits until ready,
#         and prints the connection facts as KEY=value lines (the same as `env`).
#   down  stops the broker this script started and deletes its state.
# State lives in ${SECURE_KAFKA_DIR:-<repo>/.local/kafka-secure}; ports from ${SECURE_KAFKA_BASE_PORT:-19192}.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INFRA_DIR="$REPO_ROOT/infra"
STATE_DIR="${STREAMTRAIN_STATE_DIR:-$REPO_ROOT/.local}"
case "$STATE_DIR" in /*) ;; *) STATE_DIR="$PWD/$STATE_DIR" ;; esac
KAFKA_LIB="$STATE_DIR/kafka/lib"
DIR="${SECURE_KAFKA_DIR:-$STATE_DIR/kafka-secure}"
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
BASE="${SECURE_KAFKA_BASE_PORT:-19192}"
SSL_PORT=$BASE
SASL_PORT=$((BASE + 1))
SASL_SSL_PORT=$((BASE + 2))
PLAIN_PORT=$((BASE + 3))
CONTROLLER_PORT=$((BASE + 4))
HOST=127.0.0.1
# Test credentials of a throw-away broker, printed by `env`; never used anywhere else.
STORE_PASSWORD=streamtrain-test-store
CLIENT_KEY_PASSWORD=streamtrain-test-key
SCRAM_USER=streamtrain
SCRAM_PASSWORD=scram-secret
PLAIN_USER=streamtrain-plain
PLAIN_PASSWORD=plain-secret
PID_FILE="$DIR/kafka.pid"
CERTS="$DIR/certs"

say() { printf '%s\n' "$*" >&2; }
die() { printf 'secure-broker.sh: %s\n' "$*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 0
  local pid
  pid="$(<"$PID_FILE")"
  if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "kafka\.Kafka $DIR/"; then
    printf '%s\n' "$pid"
  fi
}

make_certs() {
  [[ -f "$CERTS/.done" ]] && return 0
  rm -rf "$CERTS"
  mkdir -p "$CERTS"
  mkdir -p "$DIR/logs"
  kt() { keytool -noprompt -storetype PKCS12 -storepass "$STORE_PASSWORD" "$@" >>"$DIR/logs/keytool.log" 2>&1; }
  # The CA.
  kt -genkeypair -keystore "$CERTS/ca.p12" -alias ca -dname "CN=streamtrain test CA" \
    -keyalg RSA -keysize 2048 -validity 30 -ext bc:c
  kt -exportcert -rfc -keystore "$CERTS/ca.p12" -alias ca -file "$CERTS/ca.pem"
  # One signed key pair in its own keystore, the CA's certificate in its chain.
  signed() {
    local name=$1 dname=$2 ext=$3
    kt -genkeypair -keystore "$CERTS/$name.p12" -alias "$name" -dname "$dname" \
      -keyalg RSA -keysize 2048 -validity 30
    kt -certreq -keystore "$CERTS/$name.p12" -alias "$name" -file "$CERTS/$name.csr"
    kt -gencert -keystore "$CERTS/ca.p12" -alias ca -infile "$CERTS/$name.csr" \
      -outfile "$CERTS/$name.crt" -rfc -validity 30 ${ext:+-ext "$ext"}
    kt -importcert -keystore "$CERTS/$name.p12" -alias ca -file "$CERTS/ca.pem"
    kt -importcert -keystore "$CERTS/$name.p12" -alias "$name" -file "$CERTS/$name.crt"
  }
  signed broker "CN=localhost" "san=ip:127.0.0.1,dns:localhost"
  signed client "CN=streamtrain-client" ""
  kt -importcert -keystore "$CERTS/truststore.p12" -alias ca -file "$CERTS/ca.pem"
  # Node.js reads PEM: the client's certificate as keytool wrote it, its key (encrypted with a
  # passphrase, to exercise KAFKA_SSL_KEY_PASSWORD) through openssl.
  cp "$CERTS/client.crt" "$CERTS/client.pem"
  openssl pkcs12 -in "$CERTS/client.p12" -passin "pass:$STORE_PASSWORD" -nocerts \
    -passout "pass:$CLIENT_KEY_PASSWORD" -out "$CERTS/client.key" 2>/dev/null
  touch "$CERTS/.done"
}

render_config() {
  mkdir -p "$DIR/data" "$DIR/logs"
  local sasl_jaas="org.apache.kafka.common.security.plain.PlainLoginModule required user_${PLAIN_USER}=\"${PLAIN_PASSWORD}\";"
  cat >"$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=SSL://$HOST:$SSL_PORT,SASL_PLAINTEXT://$HOST:$SASL_PORT,SASL_SSL://$HOST:$SASL_SSL_PORT,INTERNAL://$HOST:$PLAIN_PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=SSL://$HOST:$SSL_PORT,SASL_PLAINTEXT://$HOST:$SASL_PORT,SASL_SSL://$HOST:$SASL_SSL_PORT,INTERNAL://$HOST:$PLAIN_PORT
listener.security.protocol.map=SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
log.dirs=$DIR/data

ssl.keystore.type=PKCS12
ssl.keystore.location=$CERTS/broker.p12
ssl.keystore.password=$STORE_PASSWORD
ssl.key.password=$STORE_PASSWORD
ssl.truststore.type=PKCS12
ssl.truststore.location=$CERTS/truststore.p12
ssl.truststore.password=$STORE_PASSWORD
listener.name.ssl.ssl.client.auth=required

sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_plaintext.plain.sasl.jaas.config=$sasl_jaas
listener.name.sasl_ssl.plain.sasl.jaas.config=$sasl_jaas
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# Without a validator of its own the broker accepts unsecured (alg "none") JWS tokens: enough to
# show the client's OAUTHBEARER exchange, never a production setting.
listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;

auto.create.topics.enable=false
num.partitions=2
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=2
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=2
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
}

tool() { java -Dlog4j2.configurationFile="$INFRA_DIR/kafka/tools-log4j2.xml" -cp "$KAFKA_LIB/*" "$@"; }

format_storage() {
  [[ -f "$DIR/data/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(tool kafka.tools.StorageTool random-uuid)"
  tool kafka.tools.StorageTool format -t "$cluster_id" -c "$DIR/server.properties" --ignore-formatted \
    --add-scram "SCRAM-SHA-256=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" >/dev/null
}

ready() {
  port_open "$HOST" "$PLAIN_PORT" &&
    timeout 20 java -Dlog4j2.configurationFile="$INFRA_DIR/kafka/tools-log4j2.xml" -cp "$KAFKA_LIB/*" \
      org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$PLAIN_PORT" --list >/dev/null 2>&1
}

print_env() {
  cat <<EOF
SECURE_KAFKA_SSL_BROKER=$HOST:$SSL_PORT
SECURE_KAFKA_SASL_BROKER=$HOST:$SASL_PORT
SECURE_KAFKA_SASL_SSL_BROKER=$HOST:$SASL_SSL_PORT
SECURE_KAFKA_PLAINTEXT_BROKER=$HOST:$PLAIN_PORT
SECURE_KAFKA_CA_FILE=$CERTS/ca.pem
SECURE_KAFKA_CLIENT_CERT_FILE=$CERTS/client.pem
SECURE_KAFKA_CLIENT_KEY_FILE=$CERTS/client.key
SECURE_KAFKA_CLIENT_KEY_PASSWORD=$CLIENT_KEY_PASSWORD
SECURE_KAFKA_SCRAM_USER=$SCRAM_USER
SECURE_KAFKA_SCRAM_PASSWORD=$SCRAM_PASSWORD
SECURE_KAFKA_PLAIN_USER=$PLAIN_USER
SECURE_KAFKA_PLAIN_PASSWORD=$PLAIN_PASSWORD
EOF
}

cmd_up() {
  command -v java >/dev/null || die "java not found (Java 17+ is needed)"
  command -v openssl >/dev/null || die "openssl not found (it exports the client key as PEM)"
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
  local pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    for port in "$SSL_PORT" "$SASL_PORT" "$SASL_SSL_PORT" "$PLAIN_PORT" "$CONTROLLER_PORT"; do
      ! port_open "$HOST" "$port" || die "port $port is taken; set SECURE_KAFKA_BASE_PORT"
    done
    bash "$INFRA_DIR/local.sh" fetch >/dev/null
    make_certs
    render_config
    format_storage
    nohup setsid java -Xmx384m -Djava.awt.headless=true -Dkafka.logs.dir="$DIR/logs" \
      -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" \
      -cp "$KAFKA_LIB/*" kafka.Kafka "$DIR/server.properties" \
      >>"$DIR/logs/kafka.out" 2>&1 </dev/null 9>&- &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
    say "secure kafka: starting (pid $pid)"
  fi
  local deadline=$((SECONDS + 120))
  until ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$DIR/logs/server.log" "$DIR/logs/kafka.out" >&2 2>/dev/null || true
      die "broker exited during startup"
    fi
    ((SECONDS < deadline)) || die "broker (pid $pid) not ready after 120 s (logs in $DIR/logs)"
    sleep 1
  done
  say "secure kafka: up (pid $pid)"
  print_env
}

cmd_down() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    kill "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -rf "$DIR"
  say "secure kafka: down"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  env) print_env ;;
  *)
    say "usage: infra/kafka/secure-broker.sh up | down | env"
    exit 2
    ;;
esac
