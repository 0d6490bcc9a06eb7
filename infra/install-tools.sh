#!/usr/bin/env bash
# Installs the command-line tools the project needs beyond Node.js and npm, from Debian's
# packages, when they are missing: Java 17 and Maven (to fetch and run Kafka), kcat (the e2e
# test's outside producer), psql and pg_isready (infra/local.sh), promtool (checks /metrics and the
# alert rules), Chromium (the console's browser test, driven by playwright-core) and docker-compose
# (validates docker-compose.yml). Uses apt-get as root, or through sudo.
set -euo pipefail

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
