#!/usr/bin/env bash
# bench.sh measures qsjwt in one run and prints ONE Markdown table (the one the
# README shows): signing and verifying an RS256-2048 Qlik Cloud token beside
# the raw crypto/rsa operation and the peers, the cached QSEoW token, and the
# qs-jwt command line against the Node qs-jwt. About 2 minutes on a quiet
# 2-core machine; longer on a busy one, where the Node runs slow down.
#
#   scripts/bench.sh
#   COUNT=7 scripts/bench.sh         # rounds (default 5; medians are taken over them)
#   RAW=dir scripts/bench.sh         # also keep what each step printed (go test lines for benchstat)
#
# Three steps, each skipped with a message when it cannot run:
#  1. The root package's benchmarks (go test -bench): Verify/RS256-2048
#     (QSEoW and Cloud beside rsa.VerifyPKCS1v15) and TokenSource/Cached,
#     COUNT runs of BENCHTIME (500ms). Signing is measured in step 2 only:
#     its ratio to raw is within 1 %, which separate benchmarks on a shared
#     machine cannot resolve, and interleaved calls can.
#  2. bench/, a module of its own so that golang-jwt and go-jose never become
#     qsjwt's dependencies: qsjwt, the hand-built engine, golang-jwt/v5,
#     go-jose/v4 and jwx/v2 on one token with the same claims, each interleaved
#     call by call with raw crypto/rsa, COUNT rounds (at least 5) of PEERTIME
#     (500ms) per library. PEERFLAGS defaults to -thread-cpu (calls timed by
#     their thread's CPU time, so other work on a shared machine drops out;
#     PEERFLAGS= times by the wall clock). Gives the "× raw" and "vs peer"
#     columns: raw ns / library ns in the same loop, medians over rounds.
#  3. The CLI pairing: qs-jwt create-qscloud built as scripts/release.sh
#     builds it, and the Node qs-jwt 1.14.1 (not on the npm registry: its
#     source is in NODE_QSJWT, default ../shared/peers/qs-jwt-node, copied to
#     a temporary folder and given its dependencies there with npm install
#     --omit=dev --ignore-scripts), one Cloud token each, same claims and key
#     (the Node tool has no --sub: it invents the subject), in one paired
#     hyperfine run (-N --warmup 20 --runs CLIRUNS, default 200); max RSS from
#     GNU time -v, median of 5. Needs node, npm and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

count=${COUNT:-5}
benchtime=${BENCHTIME:-500ms}
peertime=${PEERTIME:-500ms}
peerflags=${PEERFLAGS--thread-cpu}
cliruns=${CLIRUNS:-200}
node_src=${NODE_QSJWT:-../shared/peers/qs-jwt-node}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/all # everything benchtable.awk reads
: >"$out"
start=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)
note() { echo "bench.sh: $*" >&2; echo "note	$*" >>"$out"; }

# 1. Root benchmarks.
echo "bench.sh: root benchmarks, $count runs of $benchtime" >&2
go test -c -o "$tmp/qsjwt.test" .
for i in $(seq "$count"); do
	echo "  run $i/$count" >&2
	"$tmp/qsjwt.test" -test.run '^$' -test.benchtime "$benchtime" -test.bench '^BenchmarkVerify$/^RS256-2048$/^(RawRSA|QSEoW|Cloud)$'
	"$tmp/qsjwt.test" -test.run '^$' -test.benchtime "$benchtime" -test.bench '^BenchmarkTokenSource$/^Cached$'
done | grep '^Benchmark' >"$tmp/gotest.txt"
cat "$tmp/gotest.txt" >>"$out"

# 2. Peers (bench/, its own module).
prounds=$((count < 5 ? 5 : count))
echo "bench.sh: peers, cd bench && go run . -rounds $prounds -time $peertime $peerflags" >&2
# shellcheck disable=SC2086 # peerflags holds flags, split on purpose
(cd bench && go run . -rounds "$prounds" -time "$peertime" $peerflags) >"$tmp/peers.txt"
echo "peercmd	cd bench && go run . -rounds $prounds -time $peertime $peerflags" >>"$out"
sed 's/^/peer	/' "$tmp/peers.txt" >>"$out"

# 3. CLI pairing.
cli() {
	local missing="" t
	for t in node npm hyperfine; do command -v "$t" >/dev/null || missing="$missing $t"; done
	if [ -n "$missing" ]; then
		note "CLI pairing skipped: missing$missing (apt-get install -y nodejs npm hyperfine)"
		return
	fi
	if [ ! -f "$node_src/src/qs-jwt.js" ]; then
		note "CLI pairing skipped: no Node qs-jwt source at $node_src (set NODE_QSJWT to its folder)"
		return
	fi
	cp -R "$node_src" "$tmp/node"
	if ! (cd "$tmp/node" && npm install --omit=dev --ignore-scripts --no-audit --no-fund) >"$tmp/npm.log" 2>&1; then
		note "CLI pairing skipped: npm install of the Node qs-jwt's dependencies failed (log: $(tail -1 "$tmp/npm.log"))"
		return
	fi
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/qs-jwt" ./cmd/qs-jwt
	local key=$repo/testdata/test-only-rsa2048-pkcs8.pem
	local claims="create-qscloud --username \"Jane Doe\" --useremail jane@example.com --useremail-verified true --groups Sales Ops --issuer https://idp.example.com --keyid k1 --expires 5m --cert-privatekey-file $key --minimal-output --loglevel error"
	local ours="$tmp/qs-jwt $claims --sub jane" theirs="node $tmp/node/src/qs-jwt.js $claims"
	local nodever
	nodever=$(node --version)
	echo "bench.sh: CLI pairing, hyperfine -N --warmup 20 --runs $cliruns (node $nodever)" >&2
	hyperfine -N --warmup 20 --runs "$cliruns" --style none --export-csv "$tmp/cli.csv" \
		-n qs-jwt "$ours" -n node "$theirs" >&2
	local rss=() cmd i
	for cmd in "$ours" "$theirs"; do
		local r=n/a
		if /usr/bin/time -v true >/dev/null 2>&1; then
			for i in 1 2 3 4 5; do
				eval "/usr/bin/time -v $cmd" 2>&1 >/dev/null | awk '/Maximum resident set size/ {print $NF}'
			done | sort -n | sed -n 3p >"$tmp/rss"
			r=$(cat "$tmp/rss")
		fi
		rss+=("$r")
	done
	# hyperfine's CSV: command,mean,stddev,median,user,system,min,max (seconds)
	awk -F, -v q="${rss[0]}" -v n="${rss[1]}" -v nv="$nodever" \
		'$1 == "qs-jwt" { print "cli\tqs-jwt create-qscloud (release build)\t" $4 "\t" $7 "\t" q } $1 == "node" { print "cli\tNode qs-jwt 1.14.1 create-qscloud (node " nv ")\t" $4 "\t" $7 "\t" n }' \
		"$tmp/cli.csv" >>"$out"
	echo "clicmd	hyperfine -N --warmup 20 --runs $cliruns '$ours' '$theirs'" | sed "s#$tmp#\$tmp#g; s#$repo/##g" >>"$out"
}
cli

cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
if awk -v l="${load0%% *}" -v c="$cores" 'BEGIN { exit !(l + 0 > c + 0) }'; then
	note "the load average ($load0) was above the $cores cores: other work shared them, which inflates the wall-clock figures (go test rows, CLI times) but hardly the interleaved bench/ ratios; Node suffers more than qs-jwt, so the CLI ratio of medians flatters qs-jwt and that of minimums less"
fi

if [ -n "${RAW:-}" ]; then mkdir -p "$RAW" && cp "$tmp/gotest.txt" "$tmp/peers.txt" "$RAW/" && cp "$out" "$RAW/all.txt"; fi

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
echo "# qsjwt, one run: $(date -u '+%Y-%m-%d %H:%M UTC'), $(go version | cut -d' ' -f3-), $(($(date +%s) - start)) s"
echo "# machine: ${cpu:-$(uname -m)}, nproc $cores; load average before $load0, after $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
echo "# command: scripts/bench.sh (COUNT=$count BENCHTIME=$benchtime PEERTIME=$peertime PEERFLAGS=$peerflags CLIRUNS=$cliruns)"
echo
awk -f scripts/benchtable.awk "$out"
