#!/usr/bin/env bash
# Issue 10's scale-out benchmark (not a test): 40 small runs (bundled digits, 2 epochs) drained by one api process
# and 1, 2 and 4 worker processes of the published app on a throwaway PostgreSQL cluster, and by one all-in-one
# process on SQLite. Prints runs per minute, submit→start latency (idle and under the queue) and scheduling
# overhead per run; docs/scaling.md holds the figures and what they project to.
#
#   scripts/bench-scale.sh [--runs 40] [--workers "1 2 4"] [--epochs 2] [--app DIR] [--no-sqlite]
#
# Needs: PostgreSQL 15 server binaries (apt-get install -y postgresql), python3, curl; runs as root (the cluster is
# initialised and started as user postgres) or as the postgres user itself. --app takes an already published app
# (the folder holding TrainingService.Api.dll); without it the script publishes the Dockerfile's way first.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

runs=40
workers_list="1 2 4"
epochs=2
app=""
sqlite=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --workers) workers_list=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --app) app=$2; shift 2 ;;
    --no-sqlite) sqlite=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

for tool in curl python3; do command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }; done
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$pgbin/initdb" ]] || { echo "PostgreSQL server binaries not found (apt-get install -y postgresql)" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-scale.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -f "$work/pg/postmaster.pid" ]] && as_postgres "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

as_postgres() {
  if [[ $(id -un) == postgres ]]; then "$@"; else su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [[ -z "$app" ]]; then
  echo "publishing the app (as the Dockerfile does) into $work/app …" >&2
  dotnet publish src/Api/Api.csproj -c Release -r linux-x64 --self-contained false -o "$work/app" -nologo -v q >&2
  app="$work/app"
fi
dll="$app/TrainingService.Api.dll"
[[ -f "$dll" ]] || { echo "no $dll" >&2; exit 1; }

# The throwaway cluster: trust auth on loopback, its socket in the temp folder, a free port.
pgport=$(free_port)
mkdir -p "$work/pg" && chown postgres "$work/pg" 2>/dev/null || true
as_postgres "$pgbin/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
as_postgres "$pgbin/pg_ctl" -D "$work/pg" -o "-p $pgport -k $work/pg -c max_connections=200" -l "$work/pg/log" -w start >/dev/null
psql_admin() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -qAt -c "$1"; }

spec=$(cat <<EOF
{"dataset": {"name": "digits", "preprocessing": {"rescale": 0.0625, "test_fraction": 0.2, "seed": 1}},
 "model": {"input_shape": [8, 8], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 32, "activation": "relu"},
           {"type": "Dense", "units": 10, "activation": "softmax"}]},
 "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
 "fit": {"epochs": $epochs, "batch_size": 64, "seed": 1}}
EOF
)

# start_node NAME ROLE SETTINGS…: one process of the published app; waits for /health/live, leaves its URL in $node_url.
start_node() {
  local name=$1 role=$2; shift 2
  local port; port=$(free_port)
  mkdir -p "$work/$name"
  # The per-principal quota (20 active runs) and submission rate (60/min) would refuse a burst of --runs submissions.
  # exec: the pid kept is the app's own, so stopping it stops the process rather than an idle subshell.
  (cd "$app" && exec env ASPNETCORE_URLS="http://127.0.0.1:$port" Storage__Root="$work/$name" Service__Role="$role" Service__NodeName="$name" \
      Training__MaxConcurrentRuns=1 Training__TorchThreads=1 Auth__Mode=none Logging__LogLevel__Default=Warning \
      Quotas__MaxActiveRuns=100000 Requests__SubmissionsPerMinute=0 "$@" \
      dotnet "$dll" >"$work/$name.log" 2>&1) &
  pids+=($!)
  local until=$((SECONDS + 400))
  until curl -fsS "http://127.0.0.1:$port/health/live" >/dev/null 2>&1; do
    (( SECONDS < until )) || { echo "$name did not start:" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
    sleep 0.2
  done
  node_url="http://127.0.0.1:$port"
}

stop_nodes() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}

# No interpreter per submission: on a loaded machine starting one per run made the client the bottleneck.
submit() { curl -fsS -X POST "$1/api/runs" -H 'content-type: application/json' -d "$spec" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4; }

# wait_all URL: polls until no run is queued or running (each configuration has a database of its own).
total() { curl -fsS "$1/api/runs?status=$2&page_size=1" | grep -o '"total":[0-9]*' | cut -d: -f2; }
wait_all() {
  local until=$((SECONDS + 1800))
  while (( SECONDS < until )); do
    (( $(total "$1" queued) + $(total "$1" running) == 0 )) && return 0
    sleep 0.5
  done
  echo "runs did not finish in 30 min" >&2; exit 1
}

# report LABEL TRAINERS URL IDLE-IDS DRAIN-IDS: one line of figures from the runs' own timestamps.
report() {
  local label=$1 trainers=$2 url=$3
  for f in "$4" "$5"; do
    while read -r id; do
      curl -fsS "$url/api/runs/$id"; echo
      curl -fsS "$url/api/runs/$id/metrics"; echo
    done <"$f" >"$f.json"
  done
  python3 - "$label" "$trainers" "$4.json" "$5.json" <<'PY'
import json, sys
from datetime import datetime
label, trainers, idle_file, drain_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(path):
    lines = [l for l in open(path) if l.strip()]
    out = []
    for run, metrics in zip(lines[0::2], lines[1::2]):
        r, m = json.loads(run), json.loads(metrics)
        t = lambda k: datetime.fromisoformat(r[k]).timestamp()
        out.append(dict(status=r["status"], created=t("created_at"), started=t("started_at"), finished=t("finished_at"),
                        train=sum(e["duration_seconds"] for e in m)))
    return out
def pct(xs, p):
    xs = sorted(xs); i = (len(xs) - 1) * p; lo = int(i); hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (i - lo)
idle, drain = load(idle_file), load(drain_file)
failed = sum(r["status"] != "succeeded" for r in drain)
wall = max(r["finished"] for r in drain) - min(r["created"] for r in drain)
waits = [r["started"] - r["created"] for r in drain]
idle_waits = [r["started"] - r["created"] for r in idle]
in_run = [(r["finished"] - r["started"]) - r["train"] for r in drain]
train = sum(r["train"] for r in drain)
# Trainer-seconds not spent inside an epoch, per run: pickup gaps, data preparation, model build, checkpoint writes.
overhead = (trainers * wall - train) / len(drain)
print(f"{label:<22} {len(drain) / wall * 60:8.1f} {pct(idle_waits, .5) * 1000:8.0f} {pct(waits, .5):9.1f} {pct(waits, .95):9.1f}"
      f" {train / len(drain):8.2f} {sum(in_run) / len(in_run):8.2f} {overhead:9.2f} {failed:6d}")
PY
}

# measure LABEL TRAINERS SUBMIT-URL: warm-up, idle latency, then the drain.
measure() {
  local label=$1 trainers=$2 url=$3 ids=$work/$label
  # Warm-up (not counted): one run per trainer, so each process has paid for JIT and the dataset load.
  for _ in $(seq "$trainers"); do submit "$url"; done >"$ids.warm"
  wait_all "$url"
  # Idle: one run at a time on an empty queue, the pure scheduling latency.
  : >"$ids.idle"
  for _ in 1 2 3; do submit "$url" >>"$ids.idle"; wait_all "$url"; done
  for _ in $(seq "$runs"); do submit "$url"; done >"$ids.drain"
  wait_all "$url"
  report "$label" "$trainers" "$url" "$ids.idle" "$ids.drain"
}

echo "$(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg) at start, $(date -u +%FT%TZ), $runs runs of $epochs epoch(s) on digits, 1 libtorch thread per process"
printf '%-22s %8s %8s %9s %9s %8s %8s %9s %6s\n' configuration "runs/min" "idle ms" "wait p50" "wait p95" "train s" "in-run s" "ovhd s/run" failed
for n in $workers_list; do
  db="bench_w$n"
  psql_admin "CREATE DATABASE $db"
  conn="Host=127.0.0.1;Port=$pgport;Database=$db;Username=postgres;Maximum Pool Size=20"
  start_node "api-$n" api Database__Provider=postgres ConnectionStrings__Postgres="$conn"
  api=$node_url
  for i in $(seq "$n"); do start_node "worker-$n-$i" worker Database__Provider=postgres ConnectionStrings__Postgres="$conn"; done
  # The api node must not train: the job servers registered are the trainers (more than n until roles exist).
  sleep 2
  servers=$(psql -h 127.0.0.1 -p "$pgport" -U postgres -d "$db" -qAt -c "SELECT count(*) FROM hangfire.server" 2>/dev/null || echo "")
  [[ "$servers" =~ ^[0-9]+$ ]] || servers=$n
  label="postgres, $n worker(s)"
  [[ "$servers" == "$n" ]] || label="postgres, $n wrk+$((servers - n)) api"
  measure "$label" "$servers" "$api"
  stop_nodes
done
if (( sqlite )); then
  start_node sqlite all
  measure "sqlite, 1 process" 1 "$node_url"
  stop_nodes
fi
