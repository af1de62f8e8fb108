#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of qsjwt for FUZZTIME each (default 5m), one
# after the other, and prints each target's executions. .ci/run calls it with
# a short FUZZTIME; run it yourself for longer before a release or after a
# change to signing, verifying or key parsing.
#
#   scripts/fuzz.sh                          # every target, 5 minutes each
#   FUZZTIME=30m scripts/fuzz.sh FuzzVerify  # targets whose name matches a regexp
#   FUZZFLOOR=0 scripts/fuzz.sh              # do not fail a slow target (a busy machine)
#
# FUZZMINIMIZETIME (default 10s; CI 1s) bounds the time go test spends making
# each new interesting input smaller. Go's default is 60s, and a target whose
# inputs are long tokens then spends whole windows minimising at 0 execs/s.
#
# A target fails when it panics or its oracle fails, or when it ends its
# window below its floor: the average executions per second, set from
# measurements on 2 shared cores (see FLOORS). A target under its floor is
# not fuzzing: find what made each execution slow before lowering the floor.
#
# When a target fails, go test writes the input to
# <package>/testdata/fuzz/<Target>/<id>, where it is at once a seed: plain
# `go test` runs it from then on. This script prints the steps to keep it.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-5m}
minimizetime=${FUZZMINIMIZETIME:-10s}
floor_on=${FUZZFLOOR:-1}
match=${1:-.}

# package:target:floor, the floor in average executions per second. Measured
# with 20 s windows on 2 cores shared with other work, each target ran at 3 to
# 30 times its floor (the lowest margins on the slowest targets); the floors
# catch a target that stalls for most of its window, as the signing and
# verifying targets did when every execution signed with RSA-2048.
FLOORS=(
  ".:FuzzQSEoWSign:1000"
  ".:FuzzCloudSign:1000"
  ".:FuzzVerify:1000"
  ".:FuzzVerifyClaims:1000"
  ".:FuzzSignRSA2048:100"
  ".:FuzzParseKeys:300"      # its encrypted seeds cost up to 600,000 PBKDF2 rounds: 1.4k-9k/s measured
  ".:FuzzParseObject:1000"
  ".:FuzzVerifyClientAssertion:1000"
  "./internal/cli:FuzzParseExpires:1000"
  "./internal/engine:FuzzEncode:1000"
  "./internal/engine:FuzzVerifyCompact:1000"
  "./internal/engine:FuzzParseJWK:1000"
)

# seconds turns go test's elapsed time (57s, 1m3s, 1h0m2s) into seconds.
seconds() {
  local d=$1 n=0
  if [[ $d =~ ([0-9]+)h ]]; then n=$((n + BASH_REMATCH[1] * 3600)); fi
  if [[ $d =~ ([0-9]+)m ]]; then n=$((n + BASH_REMATCH[1] * 60)); fi
  if [[ $d =~ ([0-9]+)s$ ]]; then n=$((n + BASH_REMATCH[1])); fi
  echo "$n"
}

failed=()
summary=()
for entry in "${FLOORS[@]}"; do
  pkg=${entry%%:*}
  rest=${entry#*:}
  name=${rest%%:*}
  floor=${rest#*:}
  [[ $name =~ $match ]] || continue
  echo "== go test -run '^\$' -fuzz '^${name}\$' -fuzztime $fuzztime -fuzzminimizetime $minimizetime $pkg"
  log=$(mktemp)
  status=0
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$pkg" 2>&1 | tee "$log" || status=$?
  # The last progress line: "fuzz: elapsed: 1m3s, execs: 80900 (423/sec), ...".
  last=$(grep -E '^fuzz: elapsed: [0-9hms]+, execs: [0-9]+' "$log" | tail -n 1 || true)
  execs=0
  elapsed=0
  if [[ $last =~ elapsed:\ ([0-9hms]+),\ execs:\ ([0-9]+) ]]; then
    elapsed=$(seconds "${BASH_REMATCH[1]}")
    execs=${BASH_REMATCH[2]}
  fi
  rate=$((execs / (elapsed > 0 ? elapsed : 1)))
  line="$name: $execs execs in ${elapsed}s, $rate/s on average (floor $floor/s)"
  # Go 1.26's fuzz coordinator can fail a target that found nothing with a
  # bare "context deadline exceeded" when -fuzztime ends while a worker is
  # busy (go.dev/issue/75804, fixed in Go 1.27). Such a run writes no input.
  # Replay the target's seeds without fuzzing to be sure,
  # and count the window as passed.
  if [ "$status" -ne 0 ] && ! grep -q 'Failing input written to' "$log" &&
    [ "$(grep -A1 -E "^--- FAIL: $name " "$log" | tail -n 1 | tr -d '[:space:]')" = contextdeadlineexceeded ]; then
    echo "$name: go test failed with a bare \"context deadline exceeded\" at the end of the window and wrote no input:"
    echo "Go's fuzzing coordinator race (go.dev/issue/75804, fixed in Go 1.27), not a finding. Replaying the seeds:"
    if go test -count=1 -run "^${name}\$" "$pkg"; then
      status=0
      line="$line (Go's end-of-window race ignored, seeds replayed)"
    fi
  fi
  if [ "$status" -ne 0 ]; then
    failed+=("$name")
    summary+=("$line: FAILED")
    input=$(grep -oE 'testdata/fuzz/'"$name"'/[0-9a-f]+' "$log" | tail -n 1 || true)
    if [ -n "$input" ]; then
      cat <<EOF

$name found a failing input: $pkg/$input
  1. Reproduce it:  go test -run '^$name/${input##*/}\$' $pkg
     (it is already a seed: plain \`go test $pkg\` runs it and fails until fixed).
  2. Fix the bug. If the input shows a case worth its own test, add that test
     beside the code it checks.
  3. Name the seed for what it holds and commit it with the fix:
       mv $pkg/$input $pkg/testdata/fuzz/$name/<what-it-is>
       git add $pkg/testdata/fuzz/$name && git commit
EOF
    fi
  elif [ "$floor_on" != 0 ] && [ "$rate" -lt "$floor" ]; then
    failed+=("$name")
    summary+=("$line: BELOW THE FLOOR")
    echo "$name ran $execs executions in ${elapsed}s: $rate/s on average, below its floor of $floor/s (scripts/fuzz.sh FLOORS)."
  else
    summary+=("$line")
  fi
  rm -f "$log"
done

echo "== fuzz summary (FUZZTIME=$fuzztime each)"
printf '%s\n' "${summary[@]}"
if [ ${#summary[@]} -eq 0 ]; then
  echo "no target matches $match"
  exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
