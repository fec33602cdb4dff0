#!/usr/bin/env bash
# Submits a run spec to TrainingService, prints each epoch as it ends (Server-Sent Events), prints the final
# metrics, optionally predicts, and exits non-zero unless the run succeeded. Usable from CI.
# A sweep (a file with "space") goes to /api/sweeps: one line per trial change, then the trials table and best.
#
#   scripts/submit.sh SPEC.json [--url URL] [--predict INSTANCES.json] [--key IDEMPOTENCY_KEY] [--timeout SECONDS]
#
# Environment: TRAINING_URL (default http://localhost:8080), TRAINING_API_KEY (sent as X-Api-Key when set). Needs curl and jq (apt-get install -y curl jq).
# Exit codes: 0 succeeded, 1 run failed/cancelled, 2 refused (400) or bad usage, 3 service unreachable, 4 timed out.
set -uo pipefail

url="${TRAINING_URL:-http://localhost:8080}"
auth=()
[ -n "${TRAINING_API_KEY:-}" ] && auth=(-H "X-Api-Key: $TRAINING_API_KEY")
spec="" predict="" key="" timeout=3600
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="$2"; shift 2 ;;
    --predict) predict="$2"; shift 2 ;;
    --key) key="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) spec="$1"; shift ;;
  esac
done
[ -n "$spec" ] && [ -f "$spec" ] || { echo "usage: $0 SPEC.json [--url URL] [--predict INSTANCES.json]" >&2; exit 2; }
for tool in curl jq; do command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install -y $tool)" >&2; exit 2; }; done
url="${url%/}"

refused() {
  echo "submission refused (HTTP $1):" >&2
  echo "$2" | jq -r '(.title // "") + (if .detail then ": " + .detail else "" end), ((.errors // {}) | to_entries[] | "  \(.key): \(.value | join("; "))")' >&2 2>/dev/null || echo "$2" >&2
  exit 2
}

# Sweeps: follow trial events, then print the table (best first) and the promoted model.
if jq -e 'has("space")' "$spec" >/dev/null 2>&1; then
  response=$(curl "${auth[@]}" -sS -w '\n%{http_code}' -X POST "$url/api/sweeps" -H 'Content-Type: application/json' --data-binary "@$spec") || { echo "cannot reach $url" >&2; exit 3; }
  code="${response##*$'\n'}"; body="${response%$'\n'*}"
  [ "$code" = "202" ] || refused "$code" "$body"
  id=$(echo "$body" | jq -r .id)
  echo "sweep $id ($(echo "$body" | jq -r '.method')): $(echo "$body" | jq -r '.max_trials') trials, $(echo "$body" | jq -r '.max_concurrent_trials') at a time, objective $(echo "$body" | jq -r '.objective.metric + " (" + .objective.mode + ")"')"
  deadline=$(( $(date +%s) + timeout )) final=""
  while [ -z "$final" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    event=""
    while IFS= read -r line; do
      line="${line%$'\r'}"
      case "$line" in
        event:*) event="${line#event: }" ;;
        data:*)
          data="${line#data: }"
          if [ "$event" = "trial" ]; then
            echo "$data" | jq -r '"trial \(.number)  \(.status)  epochs \(.epochs_completed)/\(.epochs_planned)" + (if .objective then "  objective=\(.objective * 10000 | round / 10000)" else "" end) + "  " + (.params | tostring)'
          elif [ "$event" = "status" ]; then
            status=$(echo "$data" | jq -r .status)
            echo "sweep: $status"
            case "$status" in succeeded|failed|cancelled|deleted) final="$status" ;; esac
          fi ;;
      esac
    done < <(curl "${auth[@]}" -sN --max-time "$timeout" -H 'Accept: text/event-stream' "$url/api/sweeps/$id/events")
    [ -z "$final" ] && sleep 1
  done
  [ -z "$final" ] && { echo "timed out after ${timeout}s; sweep $id still going" >&2; exit 4; }
  sweep=$(curl "${auth[@]}" -sS "$url/api/sweeps/$id")
  echo "$sweep" | jq -r '"rank  trial  status     epochs  objective  params", (.trials | to_entries[] | "\(.key + 1)     \(.value.number)      \(.value.status)  \(.value.epochs_completed)/\(.value.epochs_planned)   \(.value.objective // "-")  \(.value.params | tostring)")'
  echo "$sweep" | jq -r '"wall \(.wall_seconds)s; epochs trained \(.counts.epochs_trained) of \(.counts.epochs_if_all_completed) (saved \(.counts.epochs_saved_fraction * 1000 | round / 10)%)"'
  [ "$final" = "succeeded" ] || { echo "sweep $id $final: $(echo "$sweep" | jq -r '.error // "no error recorded"')" >&2; exit 1; }
  echo "best: trial $(echo "$sweep" | jq -r '.best.number') $(echo "$sweep" | jq -c '.best.params') objective $(echo "$sweep" | jq -r '.best.objective'); test metrics $(echo "$sweep" | jq -c '.best.test_metrics')"
  if [ "$(echo "$sweep" | jq -r '.promoted.name // empty')" != "" ]; then
    name=$(echo "$sweep" | jq -r '.promoted.name')
    echo "promoted: /api/models/$name/predict answers with run $(echo "$sweep" | jq -r '.promoted.run_id')"
    if [ -n "$predict" ]; then
      curl "${auth[@]}" -sS -X POST "$url/api/models/$name/predict" -H 'Content-Type: application/json' --data-binary "@$predict" \
        | jq -c '.predictions[] | {"class": .["class"], label: .label, probability: ((.probabilities // []) | max)}' || exit 1
    fi
  fi
  echo "$id" > "${RUN_ID_FILE:-/dev/null}"
  exit 0
fi

headers=(-H 'Content-Type: application/json')
[ -n "$key" ] && headers+=(-H "Idempotency-Key: $key")
response=$(curl "${auth[@]}" -sS -w '\n%{http_code}' -X POST "$url/api/runs" "${headers[@]}" --data-binary "@$spec") || { echo "cannot reach $url" >&2; exit 3; }
code="${response##*$'\n'}"; body="${response%$'\n'*}"
[ "$code" = "202" ] || refused "$code" "$body"
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
  done < <(curl "${auth[@]}" -sN --max-time "$timeout" -H 'Accept: text/event-stream' -H "Last-Event-ID: epoch-$last" "$url/api/runs/$id/events")
  [ -z "$final" ] && sleep 1
done
[ -z "$final" ] && { echo "timed out after ${timeout}s; run $id still going" >&2; exit 4; }

run=$(curl "${auth[@]}" -sS "$url/api/runs/$id")
if [ "$final" != "succeeded" ]; then
  echo "run $id $final: $(echo "$run" | jq -r '.error // "no error recorded"')" >&2
  exit 1
fi
echo "test metrics: $(echo "$run" | jq -c '.metrics | del(.cross_validation)')"
# A cross-validated run: the folds' held-out metrics, then mean ± std.
if [ "$(echo "$run" | jq -r '.spec.cross_validation // empty')" != "" ]; then
  curl "${auth[@]}" -sS "$url/api/runs/$id/cross_validation" | jq -r '.fold_runs[] | "fold \(.fold)  \(.status)  \(.metrics | tostring)"'
  curl "${auth[@]}" -sS "$url/api/runs/$id/cross_validation" | jq -r '.mean as $m | .std as $s | "cross-validation mean ± std: " + ([$m | keys[] | "\(.)=\($m[.] * 10000 | round / 10000)±\($s[.] * 10000 | round / 10000)"] | join("  "))'
fi

if [ -n "$predict" ]; then
  echo "prediction for $predict:"
  curl "${auth[@]}" -sS -X POST "$url/api/runs/$id/predict" -H 'Content-Type: application/json' --data-binary "@$predict" \
    | jq -c '.predictions[] | {"class": .["class"], label: .label, probability: ((.probabilities // []) | max)}' || exit 1
fi
echo "$id" > "${RUN_ID_FILE:-/dev/null}"
exit 0
