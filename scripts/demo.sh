#!/usr/bin/env bash
# From a fresh clone: publishes the service, starts it on a loopback port with its state in a temporary folder,
# trains examples/digits-mlp.json while printing each epoch, predicts three digits, and stops the service.
#
#   scripts/demo.sh [SPEC.json [INSTANCES.json]]      (PORT=5080 KEEP=1 to leave the service and data)
set -euo pipefail
cd "$(dirname "$0")/.."
spec="${1:-examples/digits-mlp.json}"
instances="${2:-examples/digits-predict.json}"
port="${PORT:-5080}"
for tool in dotnet curl jq; do command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }; done

echo "== publishing (dotnet publish -c Release)"
dotnet publish src/Api/Api.csproj -c Release -o artifacts/publish -v quiet -nologo >/dev/null
data="$(mktemp -d)"
log="$data/service.log"
echo "== starting on http://127.0.0.1:$port (state in $data, log $log)"
# Auth__Mode=none: no key to create; the service refuses this mode unless it listens on loopback only.
GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}" Auth__Mode=none Storage__Root="$data" ASPNETCORE_URLS="http://127.0.0.1:$port" ./artifacts/publish/TrainingService.Api >"$log" 2>&1 &
pid=$!
cleanup() {
  if [ -z "${KEEP:-}" ]; then
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$data"
  else
    echo "service left running (pid $pid, data $data)"
  fi
}
trap cleanup EXIT
for _ in $(seq 60); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "service exited:"; cat "$log"; exit 1; }
  sleep 0.5
done
curl -sS "http://127.0.0.1:$port/health" | jq -c .
echo "== submitting $spec"
TRAINING_URL="http://127.0.0.1:$port" scripts/submit.sh "$spec" --predict "$instances"
