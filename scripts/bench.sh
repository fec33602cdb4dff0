#!/usr/bin/env bash
# Issue 6's benchmarks in one command: builds the service and the harness in Release, then runs
# bench/Benchmarks, which prints the report and writes docs/benchmarks.md. About 10 minutes on the 2-core machine.
#
#   scripts/bench.sh [harness options, e.g. --repeats 3 --no-python --clients 1,32]
#
# Needs: wrk and Debian's python3-torch (apt-get install -y wrk python3-torch) for the serving and PyTorch parts
# (each part is skipped, and says so, when its tool is missing); dataset-fashion-mnist for the MLP's real data.
set -euo pipefail
cd "$(dirname "$0")/.."
# As the Docker image runs the service: large tensors on transparent huge pages (read at process start; see NativeHeap).
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}"
for tool in wrk /usr/bin/python3; do command -v "$tool" >/dev/null || echo "note: $tool not found; that part is skipped (apt-get install -y wrk python3-torch)" >&2; done
dotnet build -c Release src/Api/Api.csproj -nologo -v q >&2
dotnet build -c Release bench/Benchmarks/Benchmarks.csproj -nologo -v q >&2
exec dotnet bench/Benchmarks/bin/Release/net10.0/Benchmarks.dll "$@"
