#!/usr/bin/env bash
# bench.sh runs qsjwt's benchmarks beside the raw RSA signature they wrap and
# prints a Markdown table: median ns/op, tokens/s, allocs/op and throughput as
# a ratio to the raw signature of the same algorithm and key size, then the
# issue-6 targets. Every round runs all benchmarks once, so slow drift on the
# machine touches them alike; medians over the rounds tame the rest.
#
#   scripts/bench.sh                      # 5 rounds of 1s per benchmark: about 4 minutes on 2 cores
#   COUNT=3 BENCHTIME=500ms scripts/bench.sh
#   RAW=bench.txt scripts/bench.sh        # also keep the raw `go test -bench` lines (benchstat reads them)
#   PEERS=0 scripts/bench.sh              # skip the peer comparison (bench/, its own module)
#   PEERTIME=1s scripts/bench.sh          # time per library per round in the peer comparison (default 500ms)
#   PEERFLAGS=-thread-cpu scripts/bench.sh  # time the peers' calls by thread CPU time (a busy machine)
#
# Then it runs bench/ (a module of its own, so that golang-jwt and go-jose never
# become qsjwt's dependencies): qsjwt, golang-jwt/v5, go-jose/v4, jwx/v2 and
# the hand-built engine on one RS256-2048 Qlik Cloud token, each interleaved
# with raw crypto/rsa, COUNT rounds (at least 5), one table of medians with
# ratios to raw and to each peer.
#
# On Linux it measures, per round, the CPU time other processes took. A round
# in which they took more than MAXBUSY percent of the machine (default 5) is
# run again, up to COUNT more times; the header says how many were. Other
# work on the cores shows up as noise, in the parallel figures most of all.
set -euo pipefail
cd "$(dirname "$0")/.."

count=${COUNT:-5}
benchtime=${BENCHTIME:-1s}
maxbusy=${MAXBUSY:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/qsjwt.test" .
go test -c -o "$tmp/engine.test" ./internal/engine

round() {
	"$tmp/qsjwt.test" -test.run '^$' -test.benchtime "$benchtime" \
		-test.bench '^Benchmark(Sign|Interleaved|Verify|TokenSource)$'
	"$tmp/qsjwt.test" -test.run '^$' -test.benchtime "$benchtime" -test.cpu 1,2 \
		-test.bench '^BenchmarkParallel$'
	(cd internal/engine && "$tmp/engine.test" -test.run '^$' -test.benchtime "$benchtime" \
		-test.bench '^Benchmark(JWX|Encode|VerifyCompact)$')
}

# machine prints the clock ticks all cores spent busy; children sets self to
# the CPU seconds of this script's children (`times` must run in this shell,
# not in a subshell). What the machine spent beyond our children is what
# other processes took.
machine() { awk '/^cpu /{print $2+$3+$4+$7+$8; exit}' /proc/stat 2>/dev/null || echo 0; }
children() {
	times >"$tmp/times"
	self=$(awk 'NR==2{for(i=1;i<=2;i++){split($i,t,"m"); s+=t[1]*60+t[2]}; print s}' "$tmp/times")
}
hz=$(getconf CLK_TCK)
cores=$(getconf _NPROCESSORS_ONLN)
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)
start=$(date +%s)

kept=0 redone=0 others=""
while [ "$kept" -lt "$count" ]; do
	echo "round $((kept + 1))/$count" >&2
	busy0=$(machine)
	children
	self0=$self t0=$(date +%s%N)
	round >"$tmp/round"
	busy1=$(machine)
	children
	other=$(awk -v b="$((busy1 - busy0))" -v s0="$self0" -v s1="$self" \
		-v hz="$hz" -v w="$(($(date +%s%N) - t0))" -v c="$cores" \
		'BEGIN { o = (b / hz - (s1 - s0)) / (w / 1e9 * c) * 100; printf "%.1f", o < 0 ? 0 : o }')
	if [ "$busy1" != 0 ] && awk -v o="$other" -v m="$maxbusy" 'BEGIN { exit !(o > m) }' && [ "$redone" -lt "$count" ]; then
		echo "  other processes took ${other}% of the machine: running the round again" >&2
		redone=$((redone + 1))
		continue
	fi
	cat "$tmp/round" >>"$tmp/out"
	kept=$((kept + 1))
	others="$others ${other}%"
done
if [ -n "${RAW:-}" ]; then cp "$tmp/out" "$RAW"; fi

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(go version | cut -d' ' -f3-), $(($(date +%s) - start))s"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'), $cores cores; load average before: $load"
echo "# $count rounds of -benchtime $benchtime, medians; parallel benchmarks at -cpu 1,2"
echo "# other processes' share of the machine per round:$others; rounds run again as disturbed: $redone"
echo
awk -f scripts/benchtable.awk "$tmp/out"

if [ "${PEERS:-1}" != 0 ]; then
	echo
	echo "## Peers, one run (bench/: cd bench && go run . -rounds $((count < 5 ? 5 : count)) -time ${PEERTIME:-500ms} ${PEERFLAGS:-})"
	echo
	# shellcheck disable=SC2086 # PEERFLAGS holds flags, split on purpose
	(cd bench && go run . -rounds "$((count < 5 ? 5 : count))" -time "${PEERTIME:-500ms}" ${PEERFLAGS:-})
fi
