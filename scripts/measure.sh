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

# Submit -> start (server clock: created_at to started_at) and -> first epoch event (client clock), on a cold
# service (first run: dataset load, model build, JIT) and again warm.
for label in cold warm; do
  t0=$(date +%s.%N)
  id=$(curl -fsS -X POST "$url/api/runs" -H 'Content-Type: application/json' --data-binary "@$spec" | jq -r .id)
  curl -sN "$url/api/runs/$id/events" | grep -m1 '^event: epoch' >/dev/null || true  # curl ends on SIGPIPE
  first=$(date +%s.%N)
  run=$(curl -fsS "$url/api/runs/$id")
  created=$(date -d "$(echo "$run" | jq -r .created_at)" +%s.%N)
  started=$(date -d "$(echo "$run" | jq -r .started_at)" +%s.%N)
  echo "$label: submit -> run started $(awk "BEGIN {printf \"%.3f\", $started - $created}") s (server), -> first epoch event $(awk "BEGIN {printf \"%.3f\", $first - $t0}") s (client)"
  until [ "$(curl -fsS "$url/api/runs/$id" | jq -r .status)" = "succeeded" ]; do sleep 0.2; done
done
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
echo "throughput: $(awk "BEGIN {printf \"%.0f\", $clients * $per_client / ($(date +%s.%N) - $start)}") requests/s (curl processes included)"

# ApacheBench keeps connections open and spawns no process per request (apt-get install -y apache2-utils).
if command -v ab >/dev/null; then
  echo "$one" > /tmp/measure-one.json
  for c in 1 "$clients"; do
    echo "ab: $c concurrent client(s), $(( c == 1 ? sequential : clients * per_client * 5 )) requests, keep-alive:"
    ab -q -k -c "$c" -n $(( c == 1 ? sequential : clients * per_client * 5 )) -p /tmp/measure-one.json -T application/json \
      "$url/api/runs/$id/predict" | grep -E "Requests per second|Time per request.*\(mean\)|Failed requests|^ +(50|95|99)%"
  done
fi
