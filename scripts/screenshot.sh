#!/usr/bin/env bash
# Renders a neuromap HTML report (or any page) headless in Debian's Chromium and
# saves a screenshot, to check that the report opens in a browser.
#
#   bash scripts/screenshot.sh out/brunel-1k-spinnaker1/report.html report.png
#
# Installs Debian's chromium package first when it is missing.
set -euo pipefail
page=${1:?usage: screenshot.sh PAGE.html OUT.png [WIDTHxHEIGHT]}
png=${2:?usage: screenshot.sh PAGE.html OUT.png [WIDTHxHEIGHT]}
size=${3:-1200x3000}
if ! command -v chromium >/dev/null; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size="${size/x/,}" \
    --screenshot="$(realpath -m "$png")" "file://$(realpath "$page")" 2>/dev/null
echo "wrote $png"
