#!/usr/bin/env bash
# Installs the Debian packages espat needs to build and test, and only those that are missing.
set -euo pipefail
packages=(cmake make g++ pkg-config
          libasio-dev libcli11-dev libspdlog-dev libfmt-dev libssl-dev zlib1g-dev
          libgtest-dev libgmock-dev
          nlohmann-json3-dev libtomlplusplus-dev libcpp-httplib-dev
          clang libclang-rt-14-dev    # clang + its runtime: the libFuzzer targets
          curl jq                     # the README's control API examples, run by a test
          openssl                     # the TLS tests' certificates and peers (s_server, s_client)
          socat                       # bench/tcpip.py's baseline relay
          python3-websockets          # the WebSocket tests' server (run by /usr/bin/python3)
          mtools dosfstools           # the fatfs round trip of the unit tests (mdir, mcopy, mkfs.fat)
          mosquitto mosquitto-clients)  # the MQTT tests' broker; bench/mqtt_http.py's baseline (mosquitto_pub)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "espat: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
