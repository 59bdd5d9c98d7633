#!/usr/bin/env bash
# rudp's one entry point.
#   ./run.sh test   build everything, run the tests (plain and under ASan+UBSan),
#                   replay the fuzz corpora and fuzz every target for a while
#   ./run.sh demo   build and run the demo: the wire format, a connection over
#                   a lossy simulated link, the profiles compared, and the
#                   delivery modes compared, with charts (gnuplot)
# As root it installs missing Debian packages itself; otherwise it prints the
# apt-get line to run and stops.
set -euo pipefail
cd "$(dirname "$0")"

jobs=$(nproc)
fuzz_seconds=${RUDP_FUZZ_SECONDS:-30}

ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: missing Debian packages: ${missing[*]}" >&2
    echo "run.sh: install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "run.sh: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

configure_and_build() {  # dir, then cmake arguments
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

tests_in() {
  ctest --test-dir "$1" -N "${@:2}" | sed -n 's/^Total Tests: //p'
}

run_tests() {
  ensure_packages cmake ninja-build g++ libxxhash-dev catch2 libbenchmark-dev libasio-dev libenet-dev clang-19 libclang-rt-19-dev

  echo "== g++: build and test"
  configure_and_build build
  ctest --test-dir build --output-on-failure -j "$jobs"
  local passed
  passed=$(tests_in build)
  echo "== the long transfer tests: 100 seeds of 10 MiB per impairment class"
  build/tests/rudp_sim_tests "[long]"
  passed=$((passed + 1))

  echo "== g++ with AddressSanitizer and UndefinedBehaviorSanitizer"
  configure_and_build build-asan -DRUDP_SANITIZE=ON -DRUDP_BENCH=OFF -DRUDP_EXAMPLES=OFF
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE package
  passed=$((passed + $(tests_in build-asan -LE package)))

  echo "== clang 19 libFuzzer, ${fuzz_seconds} s per target (RUDP_FUZZ_SECONDS)"
  configure_and_build build-fuzz -DCMAKE_CXX_COMPILER=clang++-19 -DRUDP_SANITIZE=ON -DRUDP_TESTS=OFF \
    -DRUDP_BENCH=OFF -DRUDP_EXAMPLES=OFF -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link
  mkdir -p build-fuzz/findings
  local target corpus log status
  for target in fuzz/corpus/*/; do
    target=$(basename "$target")
    corpus=build-fuzz/corpus/$target
    log=build-fuzz/findings/$target.log
    rm -rf "$corpus" && mkdir -p "$corpus"
    echo "-- fuzzing $target"
    status=0
    build-fuzz/fuzz/rudp_fuzz_"$target" "$corpus" "fuzz/corpus/$target" -max_total_time="$fuzz_seconds" \
      -artifact_prefix=build-fuzz/findings/"$target"- -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^(Done|stat::number_of_executed_units)' "$log" || true
    if [ "$status" -ne 0 ]; then
      tail -n 60 "$log" >&2
      echo "run.sh: fuzz target $target found a crash; the input is in build-fuzz/findings/" >&2
      exit 1
    fi
    passed=$((passed + 1))
  done

  echo "run.sh test: $passed passed, 0 failed"
}

run_demo() {
  ensure_packages cmake ninja-build g++ libxxhash-dev gnuplot-nox
  configure_and_build build-demo -DCMAKE_BUILD_TYPE=Release -DRUDP_TESTS=OFF -DRUDP_FUZZ=OFF >/dev/null
  echo "== 1. The wire format: a handshake and a data exchange, field by field"
  build-demo/examples/rudp_wire_tour
  echo
  echo "== 2. examples/hello_sim.cpp: a connection over a simulated link with 10% loss"
  build-demo/examples/rudp_hello_sim
  echo
  echo "== 3. The profiles compared over simulated links (quick run; the full one: build-demo/bench/rudp_compare)"
  build-demo/bench/rudp_compare --quick --csv build-demo/compare.csv
  echo
  echo "== 4. The delivery modes compared: game-like and voice-like traffic, every mode and profile,"
  echo "==    RTT 50 and 150 ms, 0-10% loss (bench/modes/modes.cpp), each mode's promises checked"
  rm -rf build-demo/modes-samples build-demo/plots
  build-demo/bench/rudp_modes --check --csv build-demo/modes.csv --samples-dir build-demo/modes-samples
  gnuplot -e "csv='build-demo/modes.csv'; samples='build-demo/modes-samples'; out='build-demo/plots'" \
    bench/modes/plot.gp
  echo
  echo "run.sh demo: the modes table as CSV: build-demo/modes.csv; latency samples: build-demo/modes-samples/"
  echo "run.sh demo: charts (realtime profile, 150 ms RTT; CDFs at 5% loss):"
  local png
  for png in build-demo/plots/*.png; do echo "  $png"; done
}

case "${1:-}" in
  test) run_tests ;;
  demo) run_demo ;;
  *)
    echo "usage: ./run.sh test | ./run.sh demo" >&2
    exit 2
    ;;
esac
