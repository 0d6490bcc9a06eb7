#!/usr/bin/env bash
# Installs the command-line tools the project needs beyond npm: a supported Node.js (from the npm
# registry, into .local/node, when the machine's is older than 22), then, from Debian's packages
# when they are missing, Java 17 and Maven (to fetch and run Kafka), kcat (the e2e test's outside
# producer), psql and pg_isready (infra/local.sh), promtool (checks /metrics and the alert rules),
# Chromium (the console's browser test, driven by playwright-core), docker-compose (validates
# docker-compose.yml) and wrk (the scoring benchmark's load generator). Uses apt-get as root, or through sudo.
set -euo pipefail

# ---------------------------------------------------------------------------------------------------
# Node.js: the project supports the LTS lines 22 and 24 (package.json `engines`). When the machine's
# node is older (or missing), the version in .nvmrc is installed into <repo>/.local/node from the
# npm registry's `node-linux-<arch>` package (the official build, published as a package), so
# nothing but the npm registry is needed. The Makefile and .ci/run put .local/node/bin first on
# PATH; the machine's npm then runs on it.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$REPO_ROOT/.local/node"
NODE_MIN_MAJOR=22
NODE_WANT="$(tr -d ' \n' <"$REPO_ROOT/.nvmrc")"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

install_node() {
  if [[ -x "$NODE_DIR/bin/node" && "$("$NODE_DIR/bin/node" -v)" == "v$NODE_WANT" ]]; then
    return 0
  fi
  local system_node
  system_node="$(command -v node || true)"
  if [[ -n "$system_node" && "$(node_major "$system_node")" -ge "$NODE_MIN_MAJOR" ]]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { echo "tools: npm not found; it is needed to fetch Node.js $NODE_WANT" >&2; exit 1; }
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "tools: no node-linux build for $(uname -m); install Node.js >= $NODE_MIN_MAJOR yourself" >&2; exit 1 ;;
  esac
  local found=missing
  [[ -n "$system_node" ]] && found="$("$system_node" -v) at $system_node"
  echo "tools: machine's node is $found; installing Node.js $NODE_WANT into .local/node"
  local staging
  staging="$(mktemp -d)"
  # `npm pack` fetches the tarball only (the package has no install script to run).
  (cd "$staging" && npm pack --silent "node-linux-$arch@$NODE_WANT" >/dev/null)
  mkdir -p "$staging/unpacked"
  tar -xzf "$staging"/node-linux-"$arch"-*.tgz -C "$staging/unpacked"
  "$staging/unpacked/package/bin/node" -v >/dev/null || { echo "tools: the fetched node does not run here" >&2; exit 1; }
  rm -rf "$NODE_DIR"
  mkdir -p "$(dirname "$NODE_DIR")"
  mv "$staging/unpacked/package" "$NODE_DIR"
  rm -rf "$staging"
}

install_node

# ---------------------------------------------------------------------------------------------------
# Debian packages

declare -A package_of=(
  [java]=openjdk-17-jre-headless
  [mvn]=maven
  [kcat]=kcat
  [psql]=postgresql-client
  [pg_isready]=postgresql-client
  [flock]=util-linux
  [setsid]=util-linux
  [promtool]=prometheus
  [chromium]=chromium
  [docker-compose]=docker-compose
  [wrk]=wrk
)

missing=()
for tool in "${!package_of[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
    echo "missing tools; install these Debian packages (as root): ${packages[*]}" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi
echo "tools: installing ${packages[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
