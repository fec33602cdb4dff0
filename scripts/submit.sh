#!/usr/bin/env bash
# Submits a run spec to TrainingService, prints each epoch as it ends (Server-Sent Events), prints the final
# metrics, optionally predicts, and exits non-zero unless the run succeeded. Usable from CI.
#
#   scripts/submit.sh SPEC.json [--url URL] [--predict INSTANCES.json] [--key IDEMPOTENCY_KEY] [--timeout SECONDS]
#
# Environment: TRAINING_URL (default http://localhost:8080). Needs curl and jq (apt-get install -y curl jq).
# Exit codes: 0 succeeded, 1 run failed/cancelled, 2 refused (400) or bad usage, 3 service unreachable, 4 timed out.
set -uo pipefail

url="${TRAINING_URL:-http://localhost:8080}"
spec="" predict="" key="" timeout=3600
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="$2"; shift 2 ;;
    --predict) predict="$2"; shift 2 ;;
    --key) key="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) spec="$1"; shift ;;
  esac
done
[ -n "$spec" ] && [ -f "$spec" ] || { echo "usage: $0 SPEC.json [--url URL] [--predict INSTANCES.json]" >&2; exit 2; }
for tool in curl jq; do command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install -y $tool)" >&2; exit 2; }; done
url="${url%/}"

headers=(-H 'Content-Type: application/json')
[ -n "$key" ] && headers+=(-H "Idempotency-Key: $key")
response=$(curl -sS -w '\n%{http_code}' -X POST "$url/api/runs" "${headers[@]}" --data-binary "@$spec") || { echo "cannot reach $url" >&2; exit 3; }
code="${response##*$'\n'}"; body="${response%$'\n'*}"
if [ "$code" != "202" ]; then
  echo "submission refused (HTTP $code):" >&2
  echo "$body" | jq -r '(.title // "") + (if .detail then ": " + .detail else "" end), ((.errors // {}) | to_entries[] | "  \(.key): \(.value | join("; "))")' >&2 2>/dev/null || echo "$body" >&2
  exit 2
fi
id=$(echo "$body" | jq -r .id)
echo "run $id ($(echo "$body" | jq -r '.name // "unnamed"')) queued: $(echo "$body" | jq -r '.epochs_planned') epochs, $(echo "$body" | jq -r '.summary.total_parameters // "?"') parameters"

# Follow the event stream; reconnect (resuming after the last epoch seen) if the connection drops.
deadline=$(( $(date +%s) + timeout ))
last=0 final=""
while [ -z "$final" ] && [ "$(date +%s)" -lt "$deadline" ]; do
  event=""
  while IFS= read -r line; do
    line="${line%$'\r'}"
    case "$line" in
      event:*) event="${line#event: }" ;;
      data:*)
        data="${line#data: }"
        if [ "$event" = "epoch" ]; then
          last=$(echo "$data" | jq -r .epoch)
          echo "$data" | jq -r --arg planned "$(echo "$body" | jq -r .epochs_planned)" \
            '"epoch \(.epoch)/\($planned)  " + ([to_entries[] | select(.key != "epoch" and .key != "learning_rate" and .key != "duration_seconds") | "\(.key)=\(.value | if type == "number" then (. * 10000 | round / 10000) else . end)"] | join("  ")) + "  (\(.duration_seconds * 100 | round / 100)s)"'
        elif [ "$event" = "status" ]; then
          status=$(echo "$data" | jq -r .status)
          echo "status: $status"
          case "$status" in succeeded|failed|cancelled|deleted) final="$status" ;; esac
        fi ;;
    esac
  done < <(curl -sN --max-time "$timeout" -H 'Accept: text/event-stream' -H "Last-Event-ID: epoch-$last" "$url/api/runs/$id/events")
  [ -z "$final" ] && sleep 1
done
[ -z "$final" ] && { echo "timed out after ${timeout}s; run $id still going" >&2; exit 4; }

run=$(curl -sS "$url/api/runs/$id")
if [ "$final" != "succeeded" ]; then
  echo "run $id $final: $(echo "$run" | jq -r '.error // "no error recorded"')" >&2
  exit 1
fi
echo "test metrics: $(echo "$run" | jq -c '.metrics')"

if [ -n "$predict" ]; then
  echo "prediction for $predict:"
  curl -sS -X POST "$url/api/runs/$id/predict" -H 'Content-Type: application/json' --data-binary "@$predict" \
    | jq -c '.predictions[] | {"class": .["class"], label: .label, probability: ((.probabilities // []) | max)}' || exit 1
fi
echo "$id" > "${RUN_ID_FILE:-/dev/null}"
exit 0
