#!/usr/bin/env bash
# make bench (issue 7): throughput and memory of `distillguard scan` against a ceiling and a peer,
# on the same simulated inputs, in one run.
#
#   limit   tools/parse_limit: simdjson On-Demand parse + the fields the engine reads + XXH3 of
#           the prompt text, one thread (the most any scanner can do per core)
#   duckdb  DuckDB (@duckdb/node-api, bench/duckdb) with 2 threads: per-account request count,
#           output-token sum and distinct prompts over the same JSONL (aggregate only)
#   scan-1  distillguard scan --threads 1: all detectors, linking, the report
#   scan-2  distillguard scan --threads 2
#
# Inputs: bench/scenarios/throughput.toml simulated once, cut into prefixes of 100k / 1M / 4M
# events (the same traffic mix, growing work); bench/scenarios/many_accounts.toml (1M active
# accounts) and the same scenario with counts / 1000 as its baseline, for memory per account.
# Each contender is timed as a whole process by /usr/bin/time (wall, user, sys, peak RSS);
# the page cache is warmed first. Small sizes are repeated and the median kept.
#
# Writes bench/results.md, bench/results.json and the tables in docs/BENCHMARKS.md and README.md.
#
# Environment (all optional):
#   BENCH_SIZES="100k 1m 4m"   input sizes (k / m suffixes)
#   BENCH_REPS=3               repetitions for sizes below 1M (1 above)
#   BENCH_MANY=1               run the many-accounts case (0 to skip)
#   BENCH_MANY_DIV=1           divide the many-accounts scenario's counts (e.g. 100 for a smoke test)
#   BENCH_MICRO=1              build and run the Google Benchmark micro-benchmarks (0 to skip)
#   BENCH_DATA=build/bench-data  where inputs and raw measurements go
#   BENCH_KEEP_INPUTS=0        1: keep the generated inputs (reused by the next run if unchanged)
#   BENCH_BIN=build/release/distillguard
#   BENCH_BUILD=1              0: use the binaries as they are (no cmake)
#   BENCH_MICRO_DIR=build/bench  where the *_bench binaries are (the bench preset's build dir)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
SIZES=${BENCH_SIZES:-"100k 1m 4m"}
REPS=${BENCH_REPS:-3}
MANY=${BENCH_MANY:-1}
MANY_DIV=${BENCH_MANY_DIV:-1}
MICRO=${BENCH_MICRO:-1}
DATA=${BENCH_DATA:-$root/build/bench-data}
KEEP=${BENCH_KEEP_INPUTS:-0}
BIN=${BENCH_BIN:-$root/build/release/distillguard}
BUILD=${BENCH_BUILD:-1}
MICRO_DIR=${BENCH_MICRO_DIR:-$root/build/bench}
GEN_AT=2025-01-01T00:00:00Z
mkdir -p "$DATA"
DATA="$(cd "$DATA" && pwd)"
RUNS="$DATA/runs.jsonl"
: >"$RUNS"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
started=$(date +%s)

# ------------------------------------------------------------------------------------ build
if [[ "$BUILD" == 1 ]]; then
  log "building the release preset"
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" >/dev/null
fi
[[ -x "$BIN" ]] || { echo "bench: $BIN not found (build the release preset)" >&2; exit 1; }

# The limit program: the CMake target when the build has one, else compiled here with the
# release preset's flags (RelWithDebInfo: -O2 -g -DNDEBUG, -march=haswell).
LIMIT="$(dirname "$BIN")/parse_limit"
if [[ ! -x "$LIMIT" || "$LIMIT" -ot tools/parse_limit.cc ]]; then
  LIMIT="$DATA/parse_limit"
  if [[ ! -x "$LIMIT" || "$LIMIT" -ot tools/parse_limit.cc ]]; then
    log "compiling tools/parse_limit.cc"
    march=(); [[ "$(uname -m)" == x86_64 ]] && march=(-march=haswell)
    # shellcheck disable=SC2046
    ${CXX:-c++} -std=c++20 -O2 -g -DNDEBUG "${march[@]}" tools/parse_limit.cc -o "$LIMIT" \
      $(pkg-config --cflags --libs simdjson libxxhash)
  fi
fi

# Always from the lock file (a couple of seconds), so the measured DuckDB is the locked version.
# The lock must list every platform's optional binding or npm ci refuses it: regenerate it with
# `npm install --package-lock-only` after changing the version, and pick a version whose
# bindings are published for all platforms.
log "installing @duckdb/node-api (npm ci in bench/duckdb)"
(cd bench/duckdb && npm ci --no-audit --no-fund --loglevel=error)

# ------------------------------------------------------------------------------------ inputs
count_of() {  # 100k -> 100000, 4m -> 4000000
  local s=${1,,}
  case "$s" in
    *k) echo $((${s%k} * 1000)) ;;
    *m) echo $((${s%m} * 1000000)) ;;
    *) echo "$s" ;;
  esac
}
max_n=0
for s in $SIZES; do n=$(count_of "$s"); ((n > max_n)) && max_n=$n; done

# Inputs are reused only when the scenario, the simulator sources and the sizes are unchanged.
stamp="$( (cat bench/scenarios/*.toml; git rev-parse HEAD:src/sim 2>/dev/null || echo nogit; echo "$SIZES $MANY $MANY_DIV") | sha256sum | cut -c1-16)"
if [[ ! -f "$DATA/inputs.stamp" || "$(cat "$DATA/inputs.stamp")" != "$stamp" ]]; then
  rm -rf "$DATA/inputs"
fi
mkdir -p "$DATA/inputs"
in="$DATA/inputs"
if [[ ! -f "$in/done" ]]; then
  # ~2,550 events per simulated hour; a margin, then the prefixes.
  hours=$((max_n / 2400 + 24))
  log "simulating bench/scenarios/throughput.toml for ${hours} h (>= $max_n events)"
  sed "s/^duration_hours = .*/duration_hours = $hours/" bench/scenarios/throughput.toml >"$in/throughput.toml"
  "$BIN" simulate --scenario "$in/throughput.toml" --out "$in/gen" >&2
  have=$(wc -l <"$in/gen/events.jsonl")
  ((have >= max_n)) || { echo "bench: the simulator gave $have events < $max_n" >&2; exit 1; }
  for s in $SIZES; do
    n=$(count_of "$s")
    if ((n < max_n)); then head -n "$n" "$in/gen/events.jsonl" >"$in/events-$s.jsonl"; fi
  done
  for s in $SIZES; do
    n=$(count_of "$s")
    if ((n == max_n)); then
      bytes=$(head -n "$n" "$in/gen/events.jsonl" | wc -c)
      truncate -s "$bytes" "$in/gen/events.jsonl"
      mv "$in/gen/events.jsonl" "$in/events-$s.jsonl"
      break
    fi
  done
  mv "$in/gen/accounts.jsonl" "$in/accounts.jsonl"
  rm -rf "$in/gen"
  if [[ "$MANY" == 1 ]]; then
    log "simulating bench/scenarios/many_accounts.toml (1M accounts) and its 1/1000 baseline"
    awk -v d="$MANY_DIV" '/^count = [0-9]+$/ { $3 = int($3 / d) } { print }' \
      bench/scenarios/many_accounts.toml >"$in/many.toml"
    "$BIN" simulate --scenario "$in/many.toml" --out "$in/many" >&2
    awk '/^count = [0-9]+$/ { $3 = int($3 / 1000) } { print }' \
      bench/scenarios/many_accounts.toml >"$in/many_base.toml"
    "$BIN" simulate --scenario "$in/many_base.toml" --out "$in/many-base" >&2
  fi
  echo "$stamp" >"$DATA/inputs.stamp"
  touch "$in/done"
fi

# ------------------------------------------------------------------------------------ runs
# /usr/bin/time (Debian package `time`) or, without it, the same four figures from getrusage.
TIMER=(/usr/bin/time -f '%e %U %S %M' -o)
if [[ ! -x /usr/bin/time ]]; then
  TIMER=(python3 -c '
import resource, subprocess, sys, time
t0 = time.monotonic(); rc = subprocess.call(sys.argv[2:]); wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{wall:.2f} {ru.ru_utime:.2f} {ru.ru_stime:.2f} {ru.ru_maxrss}\n")
sys.exit(rc)')
fi
# measure CONTENDER SIZE REP FILE -- CMD...: one timed process; appends a JSON line to $RUNS.
measure() {
  local who=$1 size=$2 rep=$3 file=$4
  shift 5
  local t="$DATA/time.txt" out="$DATA/out-$who.txt" load
  load=$(cut -d' ' -f1 /proc/loadavg)
  "${TIMER[@]}" "$t" "$@" >"$out" 2>"$DATA/err-$who.txt" || {
    echo "bench: $who on $size failed:" >&2; cat "$DATA/err-$who.txt" >&2; exit 1; }
  read -r wall user sys rss < <(tail -1 "$t")
  local extra
  extra=$(tail -1 "$out" | grep '^{' || echo '{}')
  printf '{"contender":"%s","size":"%s","rep":%d,"file":"%s","bytes":%d,"lines":%d,"wall":%s,"user":%s,"sys":%s,"rss_kb":%s,"load1":%s,"out":%s}\n' \
    "$who" "$size" "$rep" "$(basename "$file")" "$(stat -c %s "$file")" "${LINES_OF[$file]}" \
    "$wall" "$user" "$sys" "$rss" "$load" "$extra" >>"$RUNS"
  printf '  %-8s %-5s rep %d: %6.2f s wall, %6.2f s cpu, %8d KB peak\n' "$who" "$size" "$rep" \
    "$wall" "$(awk "BEGIN{print $user + $sys}")" "$rss" >&2
}
declare -A LINES_OF

for s in $SIZES; do
  f="$in/events-$s.jsonl"
  LINES_OF[$f]=$(wc -l <"$f")
  reps=$REPS
  (($(count_of "$s") >= 1000000)) && reps=1
  log "size $s: ${LINES_OF[$f]} events, $(($(stat -c %s "$f") / 1000000)) MB, $reps rep(s)"
  cat "$f" >/dev/null  # warm the page cache: every contender reads from memory
  for ((r = 1; r <= reps; ++r)); do
    measure limit "$s" "$r" "$f" -- "$LIMIT" "$f"
    measure duckdb "$s" "$r" "$f" -- node bench/duckdb/aggregate.mjs --threads 2 "$f"
    for t in 1 2; do
      measure "scan-$t" "$s" "$r" "$f" -- "$BIN" scan "$f" --accounts "$in/accounts.jsonl" \
        --report "$DATA/report-$t.json" --threads "$t" -q --generated-at "$GEN_AT"
    done
    if ! cmp -s "$DATA/report-1.json" "$DATA/report-2.json"; then
      echo "bench: warning: the 1- and 2-thread reports differ on $s" >&2
      echo "{\"warning\":\"reports differ between 1 and 2 threads on $s\"}" >>"$RUNS"
    fi
  done
done

if [[ "$MANY" == 1 ]]; then
  # Sampled every 50 ms (bench/rss_probe.py): peak RSS, and RSS once all input is read (the
  # engine's state before the final barrier and the report).
  for c in many-base many; do
    f="$in/$c/events.jsonl"
    a="$in/$c/accounts.jsonl"
    lines=$(wc -l <"$f")
    log "$c: $lines events"
    cat "$f" "$a" >/dev/null
    load=$(cut -d' ' -f1 /proc/loadavg)
    python3 bench/rss_probe.py "$DATA/probe.json" $(($(stat -c %s "$f") + $(stat -c %s "$a"))) -- \
      "$BIN" scan "$f" --accounts "$a" --report "$DATA/report-$c.json" --threads 2 -q \
      --generated-at "$GEN_AT" 2>"$DATA/err-many.txt" || {
        echo "bench: scan on $c failed:" >&2; cat "$DATA/err-many.txt" >&2; exit 1; }
    python3 - "$DATA/probe.json" "$DATA/report-$c.json" "$c" "$f" "$lines" "$load" >>"$RUNS" <<'PY'
import json, os, sys
probe, report, case, path, lines, load = sys.argv[1:]
p = json.load(open(probe)); r = json.load(open(report))
print(json.dumps({"contender": "scan-2", "size": case, "rep": 1, "file": os.path.basename(path),
                  "bytes": os.path.getsize(path), "lines": int(lines), "wall": p["wall"],
                  "user": p["user"], "sys": p["sys"], "rss_kb": p["peak_rss_kb"],
                  "load1": float(load), "out": {},
                  "rss_at_input_end_kb": p["rss_at_input_end_kb"], "input_end_s": p["input_end_s"]}))
print(json.dumps({"accounts_case": case, "active_accounts": len(r["accounts"]),
                  "clusters": sum(1 for c in r["clusters"] if len(c["accounts"]) > 1)}))
PY
    tail -2 "$RUNS" | head -1 | python3 -c 'import json, sys; d = json.load(sys.stdin); print("  scan-2   %s: %.1f s wall, peak %s KB, %s KB when all input was read (at %s s)" % (d["size"], d["wall"], d["rss_kb"], d["rss_at_input_end_kb"], d["input_end_s"]))' >&2
    rm -f "$DATA/report-$c.json"
  done
fi

# ------------------------------------------------------------------------------------ micro
MICRO_JSON=()
if [[ "$MICRO" == 1 ]]; then
  log "building and running the micro-benchmarks (bench preset)"
  if [[ "$BUILD" == 1 ]]; then
    cmake --preset bench >/dev/null
    cmake --build --preset bench -j "$(nproc)" >/dev/null
  fi
  for b in "$MICRO_DIR"/*_bench; do
    [[ -x "$b" ]] || continue
    name=$(basename "$b")
    "$b" --benchmark_min_time=0.2 --benchmark_out="$DATA/micro-$name.json" --benchmark_out_format=json \
      >/dev/null 2>&1 || { echo "bench: $name failed" >&2; continue; }
    MICRO_JSON+=("$DATA/micro-$name.json")
  done
fi

# ------------------------------------------------------------------------------------ report
mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
python3 - "$DATA/machine.json" <<EOF
import json, sys
json.dump({"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "nproc": $(nproc), "cpu": """$cpu""",
           "memory_gib": round($mem_kb / 1048576, 1), "kernel": "$(uname -r)",
           "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)",
           "loadavg_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
           "duration_s": $(($(date +%s) - started))}, open(sys.argv[1], "w"))
EOF
python3 bench/summarize.py --runs "$RUNS" --machine "$DATA/machine.json" \
  --md bench/results.md --json bench/results.json --docs docs/BENCHMARKS.md \
  --brief-docs README.md "${MICRO_JSON[@]}"

if [[ "$KEEP" != 1 ]]; then
  rm -rf "$DATA/inputs" "$DATA/inputs.stamp" "$DATA"/report-*.json
fi
log "done in $(($(date +%s) - started)) s: bench/results.md"
