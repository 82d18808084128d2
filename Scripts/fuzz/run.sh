#!/usr/bin/env bash
# Runs a libFuzzer target of Fuzz/ (or all of them) for SECONDS each, over its committed seed corpus.
#
#   Scripts/fuzz/run.sh TARGET SECONDS     e.g. Scripts/fuzz/run.sh tokenizer 60
#   Scripts/fuzz/run.sh all SECONDS        every target in turn; fails if any target fails
#   Scripts/fuzz/run.sh list               the target names
#
# Builds the targets first (incrementally) with -sanitize=fuzzer,address. The committed corpus
# Fuzz/Corpus/TARGET/ is copied to a scratch directory that receives the new inputs, so the
# committed seeds stay as they are; a crashing, timing-out or memory-hungry input is
# written to Fuzz/Crashes/TARGET/ and the script exits non-zero.
#
# Environment:
#   FUZZ_OPTIMIZE=1      build with -O (slower to build, several times more executions per second;
#                        for long runs). The default, -Onone, builds fastest (for CI).
#   FUZZ_WORK=DIR        scratch space (default Fuzz/.build/fuzz-work): corpora, logs, working directories.
#   FUZZ_JOBS=N          with `all`, run N targets at once (default 1).
#   FUZZ_FLAGS="..."     more libFuzzer flags, e.g. "-max_len=65536 -seed=1".
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
fuzz="$root/Fuzz"
targets=(safetensors-header gguf gguf-config model-weights json model-config adapter-config tokenizer chat-template tool-call config dataset-row calculator parquet arrow-ipc csv run-logs)
work="${FUZZ_WORK:-$fuzz/.build/fuzz-work}"
crashes="$fuzz/Crashes"

usage() {
  echo "usage: $0 TARGET|all SECONDS   (targets: ${targets[*]})" >&2
  exit 2
}

if ! command -v swift >/dev/null 2>&1; then
  for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$candidate/swift" ] && export PATH="$candidate:$PATH"
  done
fi

[ "${1:-}" = list ] && { printf '%s\n' "${targets[@]}"; exit 0; }
[ $# -eq 2 ] || usage
[[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || usage
seconds="$2"
if [ "$1" = all ]; then
  selected=("${targets[@]}")
else
  printf '%s\n' "${targets[@]}" | grep -qx -- "$1" || usage
  selected=("$1")
fi

# The whole graph is instrumented (Fledge, Yams and libyaml included) so that coverage guides the
# search through the parsers. lld links: gold fails on some sanitized links. The cached build
# manifest misses files added to the main package (a path dependency here), so it is not used.
optimization=-Onone
[ "${FUZZ_OPTIMIZE:-0}" = 1 ] && optimization=-O
build() {
  local target="$1"
  (cd "$fuzz" && swift build -c release --product "$target" --disable-build-manifest-caching \
    -Xswiftc "$optimization" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld \
    -Xcc -fsanitize=fuzzer-no-link,address) >"$work/build-$target.log" 2>&1 || {
    tail -n 40 "$work/build-$target.log" >&2
    echo "error: building fuzz target $target failed (log: $work/build-$target.log)" >&2
    exit 1
  }
}

# Runs one target; prints one summary line; returns libFuzzer's status.
run() {
  local target="$1"
  local corpus="$work/corpus/$target" log="$work/logs/$target.log" cwd="$work/cwd/$target"
  rm -rf "$corpus" "$cwd"
  mkdir -p "$corpus" "$cwd" "$crashes/$target" "$work/logs"
  cp -R "$fuzz/Corpus/$target/." "$corpus/"
  # LeakSanitizer is off: Swift stores references with tag bits, so it reports lazily initialised
  # statics (and some of Foundation's caches) as leaked.
  local flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 -print_final_stats=1
               -artifact_prefix="$crashes/$target/")
  [ -f "$fuzz/Dictionaries/$target.dict" ] && flags+=(-dict="$fuzz/Dictionaries/$target.dict")
  # shellcheck disable=SC2206
  flags+=(${FUZZ_FLAGS:-})
  local status=0
  # The working directory is scratch space: whatever a target writes relative to it stays there.
  # Swift's own crash backtracer is off: libFuzzer reports the trap (and the backtracer trips ASan).
  (cd "$cwd" && ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" SWIFT_BACKTRACE=enable=no \
    "$fuzz/.build/release/$target" "${flags[@]}" "$corpus") >"$log" 2>&1 || status=$?
  local runs coverage
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  coverage="$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)"
  if [ "$status" -eq 0 ]; then
    printf '%-20s ok      %10s runs  %6s edges  corpus %s inputs\n' "$target" "${runs:-?}" "${coverage:-?}" \
      "$(find "$corpus" -type f | wc -l | tr -d ' ')"
  else
    printf '%-20s FAILED  (status %s) log: %s\n' "$target" "$status" "$log"
    grep -E '==[0-9]+==ERROR|^SUMMARY|Fatal error|Precondition failed|Assertion failed|artifact_prefix|ERROR: libFuzzer' "$log" | head -n 20 || true
    grep -A 25 -E '^==[0-9]+==ERROR' "$log" | grep -E '^ +#[0-9]+ ' | head -n 15 || true
  fi
  return "$status"
}

mkdir -p "$work"
for target in "${selected[@]}"; do build "$target"; done

failed=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ] && [ "${#selected[@]}" -gt 1 ]; then
  declare -A pids=()
  for target in "${selected[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do sleep 1; done
    run "$target" >"$work/summary-$target.txt" 2>&1 &
    pids[$target]=$!
  done
  for target in "${selected[@]}"; do
    wait "${pids[$target]}" || failed+=("$target")
    cat "$work/summary-$target.txt"
  done
else
  for target in "${selected[@]}"; do run "$target" || failed+=("$target"); done
fi

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]} (inputs in $crashes/)" >&2
  exit 1
fi
