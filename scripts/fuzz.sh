#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside input (fuzz/README.md lists the targets).
# Builds all targets with cargo-fuzz (libFuzzer + AddressSanitizer, release with debug
# assertions and overflow checks), then runs each on a scratch copy of its committed seed
# corpus (fuzz/corpus/<target>), so runs never change the repository.
#
#   scripts/fuzz.sh                 # 20 s per target
#   scripts/fuzz.sh 300             # 300 s per target
#   scripts/fuzz.sh --runs 1000000  # one million executions per target
#   scripts/fuzz.sh 60 wav ssml     # only these targets
#
# Prints executions, exec/s, coverage and crashes per target; exits 1 if any target crashed
# (or leaked, timed out, ran out of memory), naming the crash input it kept. The scratch
# directory (logs, grown corpora, artifacts) is kept when something failed or when
# SWITCHBOARD_FUZZ_KEEP=1; SWITCHBOARD_FUZZ_SCRATCH chooses it. SWITCHBOARD_FUZZ_TARGET_DIR
# builds elsewhere than fuzz/target. SECONDS must be at least 1 (libFuzzer reads 0 as "no limit").
# Needs a C++ compiler (libfuzzer-sys builds libFuzzer): scripts/install-deps.sh installs it.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }

seconds=20
runs=""
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    -h|--help) usage ;;
    [0-9]*) seconds="$1"; shift ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage ;;
    *) targets+=("$1"); shift ;;
  esac
done

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
  echo "fuzz.sh: seconds per target must be a whole number >= 1 (got $seconds)" >&2
  exit 2
fi
if [[ -n "$runs" ]] && ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: --runs needs a positive whole number (got $runs)" >&2
  exit 2
fi

CARGO_FUZZ_VERSION=0.13.2
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
if ! command -v c++ >/dev/null 2>&1; then
  echo "fuzz.sh: no C++ compiler (libFuzzer is C++): run scripts/install-deps.sh (build-essential)" >&2
  exit 1
fi

# cargo-fuzz needs nightly-only flags (-Zsanitizer); the stable toolchain accepts them this way.
export RUSTC_BOOTSTRAP=1
start=$SECONDS
target_dir="$(realpath -m "${SWITCHBOARD_FUZZ_TARGET_DIR:-fuzz/target}")"
echo "fuzz.sh: building the fuzz targets (cargo fuzz build -O -a, in $target_dir)"
cargo fuzz build -O -a --target-dir "$target_dir"
build_s=$((SECONDS - start))
bin_dir="$target_dir/$(rustc -vV | sed -n 's/^host: //p')/release"

all=$(cargo fuzz list)
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets <<<"$all"
fi

# Longest input per target (bytes): room for the real messages/files, small enough to stay fast.
max_len() {
  case "$1" in
    agent_zip | agent_json | wav) echo 65536 ;;
    twilio_stream | vonage_stream | webhook_response) echo 16384 ;;
    vonage_key | detect_intent | ssml | g711_pcm) echo 8192 ;;
    dialog_turn) echo 4096 ;;
    *) echo 4096 ;;
  esac
}

scratch="${SWITCHBOARD_FUZZ_SCRATCH:-$(mktemp -d "${TMPDIR:-/tmp}/switchboard-fuzz.XXXXXX")}"
mkdir -p "$scratch"
failed=()
rows=()
for t in "${targets[@]}"; do
  if ! grep -qx "$t" <<<"$all"; then
    echo "fuzz.sh: no target $t (have: $(echo $all))" >&2
    exit 2
  fi
  corpus="$scratch/corpus/$t"
  artifacts="$scratch/artifacts/$t/"
  log="$scratch/$t.log"
  mkdir -p "$corpus" "$artifacts"
  if [[ -d "fuzz/corpus/$t" ]]; then cp -r "fuzz/corpus/$t/." "$corpus/"; fi
  limit=(-max_total_time="$seconds")
  if [[ -n "$runs" ]]; then limit=(-runs="$runs"); fi
  dict=()
  if [[ -f "fuzz/dict/$t.dict" ]]; then dict=(-dict="fuzz/dict/$t.dict"); fi
  echo "fuzz.sh: $t (${limit[*]}, -max_len=$(max_len "$t"))"
  t0=$SECONDS
  set +e
  "$bin_dir/$t" "$corpus" "${limit[@]}" "${dict[@]}" -max_len="$(max_len "$t")" \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts" >"$log" 2>&1
  rc=$?
  set -e
  took=$((SECONDS - t0))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  crashes=0
  if [[ $rc -ne 0 ]]; then
    crashes=1
    failed+=("$t")
    echo "fuzz.sh: $t FAILED (exit $rc); log: $log"
    grep -E 'ERROR: |panicked at|SUMMARY:' "$log" | head -5 | sed 's/^/    /' || true
    if [[ -n "$crash" ]]; then
      echo "fuzz.sh: crash input: $crash"
      echo "fuzz.sh: reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a $t $crash"
    fi
  fi
  rows+=("$(printf '%-17s %10s %8s %6s %6s %6s %5ss %7s' "$t" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${rss:-?}" "$took" "$crashes")")
done

echo
echo "fuzz.sh: build ${build_s} s; per target ($( [[ -n $runs ]] && echo "-runs=$runs" || echo "${seconds} s")):"
printf '%-17s %10s %8s %6s %6s %6s %6s %7s\n' target execs exec/s cov ft rss_mb time crashes
printf '%s\n' "${rows[@]}"
echo "fuzz.sh: total $((SECONDS - start)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: FAILED: ${failed[*]}; logs, corpora and crash inputs kept in $scratch"
  exit 1
fi
if [[ "${SWITCHBOARD_FUZZ_KEEP:-0}" == 1 || -n "${SWITCHBOARD_FUZZ_SCRATCH:-}" ]]; then
  echo "fuzz.sh: logs and grown corpora in $scratch"
else
  rm -rf "$scratch"
fi
echo "fuzz.sh: no crashes in ${#targets[@]} targets"
