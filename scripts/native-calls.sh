#!/usr/bin/env bash
# TorchSharp's native calls per training step, counted exactly: builds EngineBench, copies its output to
# bench/EngineBench/bin/counting, replaces libLibTorchSharp.so there by the counting stand-in
# (bench/NativeCallCounter/make-shim.sh) and runs the hand-written loop and the engine (fused and per parameter)
# on it. Calls per native function of each run go to $TMPDIR/native-calls-<model>-<run>.txt.
#
#   scripts/native-calls.sh [EngineBench options, e.g. mlp --samples 6400 --repeats 1]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/EngineBench/EngineBench.csproj -nologo -v q >&2
out=bench/EngineBench/bin/counting
rm -rf "$out"
cp -r bench/EngineBench/bin/Release/net10.0 "$out"
bench/NativeCallCounter/make-shim.sh "$out/runtimes/linux-x64/native"
exec dotnet "$out/EngineBench.dll" "${@:-mlp}"
