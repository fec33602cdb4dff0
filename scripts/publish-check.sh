#!/usr/bin/env bash
# Checks that the published app runs as-is from a clean folder, as the Docker runtime stage runs it: publishes
# for linux-x64 (framework-dependent), copies the output to an empty folder, starts it there on a loopback port
# with empty state, and requires /health to report the database, the job server and libtorch healthy.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-5090}"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
pid=""
dotnet publish src/Api/Api.csproj -c Release -r linux-x64 --self-contained false -o "$work/publish" -v quiet -nologo >/dev/null
mkdir "$work/clean" && cp -r "$work/publish/." "$work/clean/app"
cd /
Auth__Mode=none Storage__Root="$work/clean/data" ASPNETCORE_URLS="http://127.0.0.1:$port" "$work/clean/app/TrainingService.Api" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 60); do
  body=$(curl -fsS "http://127.0.0.1:$port/health" 2>/dev/null) && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log"; exit 1; }
  sleep 0.5
done
echo "$body"
echo "$body" | grep -q '"libtorch":{"status":"healthy"' || { echo "libtorch not healthy"; exit 1; }
echo "published app ($(du -sh "$work/clean/app" | cut -f1)) runs from a clean folder"
