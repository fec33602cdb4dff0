#!/usr/bin/env bash
# Measures, against a running service: seconds from submission to the run's start and to its first epoch, and
# prediction latency for a small MLP (sequential requests, then 32 concurrent clients).
#
#   TRAINING_URL=http://127.0.0.1:5080 scripts/measure.sh [SPEC.json] [INSTANCES.json]
set -euo pipefail
cd "$(dirname "$0")/.."
url="${TRAINING_URL:-http://localhost:8080}"
spec="${1:-examples/digits-mlp.json}"
instances="${2:-examples/digits-predict.json}"
sequential="${SEQUENTIAL:-100}" clients="${CLIENTS:-32}" per_client="${PER_CLIENT:-20}"

stats() { sort -n | awk '{a[NR]=$1; s+=$1} END {printf "n=%d  mean=%.1f ms  p50=%.1f ms  p95=%.1f ms  max=%.1f ms\n", NR, s/NR*1000, a[int(NR*0.5)+(NR%2)]*1000, a[int(NR*0.95+0.5)]*1000, a[NR]*1000}'; }

t0=$(date +%s.%N)
id=$(curl -fsS -X POST "$url/api/runs" -H 'Content-Type: application/json' --data-binary "@$spec" | jq -r .id)
# First epoch event as a client sees it.
first=$(curl -sN "$url/api/runs/$id/events" | grep -m1 '^event: epoch' >/dev/null; date +%s.%N)
run=$(curl -fsS "$url/api/runs/$id")
echo "submit -> started_at (server clock): $(echo "$run" | jq -r '((.started_at | sub("\\.[0-9]+";"") | fromdateiso8601) - (.created_at | sub("\\.[0-9]+";"") | fromdateiso8601))') s (second resolution)"
echo "submit -> first epoch event (client): $(awk "BEGIN {printf \"%.2f\", $first - $t0}") s"
until [ "$(curl -fsS "$url/api/runs/$id" | jq -r .status)" = "succeeded" ]; do sleep 0.2; done
echo "run $id succeeded: $(curl -fsS "$url/api/runs/$id" | jq -c .metrics)"

one=$(jq -c '{instances: [.instances[0]]}' "$instances")
curl -fsS -o /dev/null -X POST "$url/api/runs/$id/predict" -H 'Content-Type: application/json' -d "$one"   # load into the cache
echo "prediction, 1 instance, $sequential sequential requests:"
for _ in $(seq "$sequential"); do
  curl -fsS -o /dev/null -w '%{time_total}\n' -X POST "$url/api/runs/$id/predict" -H 'Content-Type: application/json' -d "$one"
done | stats
echo "prediction, 1 instance, $clients concurrent clients x $per_client requests:"
start=$(date +%s.%N)
seq "$clients" | xargs -P "$clients" -I{} sh -c "for i in \$(seq $per_client); do curl -fsS -o /dev/null -w '%{time_total}\n' -X POST '$url/api/runs/$id/predict' -H 'Content-Type: application/json' -d '$one'; done" | stats
echo "throughput: $(awk "BEGIN {printf \"%.0f\", $clients * $per_client / ($(date +%s.%N) - $start)}") requests/s"
