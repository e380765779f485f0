#!/usr/bin/env bash
# Makes sure the real services the tests start are installed: mosquitto, influxd, chromium.
# Installs them with apt-get when running as root; otherwise names what to install.
set -euo pipefail

declare -A binary_of=( [mosquitto]=mosquitto [mosquitto-clients]=mosquitto_sub [influxdb]=influxd [chromium]=chromium )
missing=()
for package in mosquitto mosquitto-clients influxdb chromium; do
  command -v "${binary_of[$package]}" >/dev/null 2>&1 \
    || [ -x "/usr/sbin/${binary_of[$package]}" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start system-wide services; the tests start their own on free ports.
  for service in mosquitto influxdb; do
    systemctl disable --now "$service" >/dev/null 2>&1 || service "$service" stop >/dev/null 2>&1 || true
  done
else
  echo "Missing: ${missing[*]}. Install them, e.g.: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
