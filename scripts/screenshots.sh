#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png: builds and starts the service on a free port with temporary state, trains the
# digits example, then has Debian's chromium (apt-get install -y chromium) shoot the main pages at 1400 and 390 px.
#   scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in dotnet curl jq chromium; do command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }; done
dotnet build src/Api -c Release -v quiet -nologo >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data="$(mktemp -d)"; base="http://127.0.0.1:$port"
Auth__Mode=none Storage__Root="$data" ASPNETCORE_URLS="$base" Logging__LogLevel__Default=Warning dotnet src/Api/bin/Release/net10.0/TrainingService.Api.dll >"$data/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 120); do curl -fsS "$base/health" >/dev/null 2>&1 && break; sleep 0.5; done
id=$(curl -fsS -X POST "$base/api/runs" -H 'Content-Type: application/json' -d @examples/digits-mlp.json | jq -r .id)
for _ in $(seq 600); do [ "$(curl -fsS "$base/api/runs/$id" | jq -r .status)" = succeeded ] && break; sleep 0.5; done
mkdir -p docs/screenshots
shoot() { # name route width height
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=8000 \
    --window-size="$3,$4" --screenshot="docs/screenshots/$1.png" "$base/$2" >/dev/null 2>&1
}
for w in desktop phone; do
  [ $w = desktop ] && size=(1400 1000) || size=(390 1600)
  shoot "runs-$w" "#/runs" "${size[@]}"
  shoot "run-$w" "#/runs/$id" "${size[0]}" $(( ${size[1]} * 2 ))
  shoot "submit-$w" "#/submit" "${size[@]}"
  shoot "datasets-$w" "#/datasets" "${size[@]}"
  shoot "playground-$w" "#/models/digits-mlp" "${size[@]}"
done
echo "screenshots in docs/screenshots"
