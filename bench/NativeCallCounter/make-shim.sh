#!/usr/bin/env bash
# Builds a counting stand-in for libLibTorchSharp.so (TorchSharp's native layer, through which every TorchSharp call
# into libtorch passes) so that a benchmark can count its native calls exactly:
#
#   bench/NativeCallCounter/make-shim.sh <folder holding libLibTorchSharp.so>
#
# The real library is renamed libLibTorchSharp.real.so; the stand-in exports the same THS* symbols, each a two-
# instruction stub that increments a counter and jumps to the real function (arguments and return values pass
# through untouched, whatever the signature), plus `ths_native_calls()`, which returns the count, and
# `ths_native_call_report(path)`, which writes the count per function (and restarts those counts). Run it on a
# throw-away copy of a build's output folder (it changes the folder); a program without the stand-in simply finds no
# `ths_native_calls` and reports that it could not count. Needs gcc.
set -euo pipefail
dir=$1
real="$dir/libLibTorchSharp.real.so"
[ -f "$real" ] || mv "$dir/libLibTorchSharp.so" "$real"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nm -D --defined-only "$real" | awk '$2 == "T" && $3 ~ /^THS/ { print $3 }' | sort -u > "$work/symbols"
{
  echo '.text'
  while read -r s; do
    printf '.globl %s\n.type %s, @function\n%s:\n  lock incq ths_counter(%%rip)\n  lock incq cnt_%s(%%rip)\n  jmp *ptr_%s(%%rip)\n' "$s" "$s" "$s" "$s" "$s"
  done < "$work/symbols"
  echo '.data'
  echo '.globl ths_counter'; echo '.hidden ths_counter'
  echo 'ths_counter: .quad 0'
  while read -r s; do printf '.globl ptr_%s\n.hidden ptr_%s\nptr_%s: .quad 0\n.globl cnt_%s\n.hidden cnt_%s\ncnt_%s: .quad 0\n' "$s" "$s" "$s" "$s" "$s" "$s"; done < "$work/symbols"
  echo '.section .note.GNU-stack,"",@progbits'
} > "$work/stubs.s"
{
  echo '#define _GNU_SOURCE'
  echo '#include <dlfcn.h>'
  echo '#include <stdio.h>'
  echo '#include <stdlib.h>'
  echo '#include <string.h>'
  echo 'extern long ths_counter __attribute__((visibility("hidden")));'
  echo 'long ths_native_calls(void) { return __atomic_load_n(&ths_counter, __ATOMIC_RELAXED); }'
  while read -r s; do echo "extern void *ptr_$s __attribute__((visibility(\"hidden\"))); extern long cnt_$s __attribute__((visibility(\"hidden\")));"; done < "$work/symbols"
  echo '/* Writes "count name" for every function called since the last call (to find what a step spends its calls on). */'
  echo 'void ths_native_call_report(const char *path) {'
  echo '  FILE *f = fopen(path, "w"); if (!f) return;'
  while read -r s; do echo "  if (cnt_$s) { fprintf(f, \"%ld $s\\n\", cnt_$s); cnt_$s = 0; }"; done < "$work/symbols"
  echo '  fclose(f);'
  echo '}'
  echo '__attribute__((constructor)) static void load_real(void) {'
  echo '  Dl_info info; char path[4096];'
  echo '  dladdr((void *)ths_native_calls, &info);'
  echo '  strncpy(path, info.dli_fname, sizeof path - 32); path[sizeof path - 32] = 0;'
  echo '  char *slash = strrchr(path, 47); strcpy(slash ? slash + 1 : path, "libLibTorchSharp.real.so");'
  echo '  void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);'
  echo '  if (!h) { fprintf(stderr, "native call counter: %s\n", dlerror()); abort(); }'
  while read -r s; do echo "  ptr_$s = dlsym(h, \"$s\");"; done < "$work/symbols"
  echo '}'
} > "$work/loader.c"
gcc -O1 -shared -fPIC -o "$dir/libLibTorchSharp.so" "$work/loader.c" "$work/stubs.s" -ldl
echo "counting stand-in: $(wc -l < "$work/symbols") functions -> $dir/libLibTorchSharp.so" >&2
