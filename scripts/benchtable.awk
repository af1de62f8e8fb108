# benchtable.awk turns what scripts/bench.sh collects into its ONE Markdown
# table. It reads, mixed in one file:
#   - `go test -bench` lines (Benchmark...): medians over the runs of ns/op
#     and allocs/op, shown without a ratio (see END);
#   - "peer<TAB>line": bench/'s output, a Markdown table per operation whose
#     "× raw" and "vs <peer>" columns come from calls interleaved with raw
#     crypto/rsa, and "#" lines describing its run;
#   - "cli<TAB>name<TAB>median s<TAB>min s<TAB>max RSS KiB": the CLI pairing;
#   - "peercmd", "clicmd" and "note" lines, printed under the table.
# POSIX awk (mawk, gawk, BSD awk).

BEGIN { FS = "\t" }

function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }

function commas(x,    s, r) {
	s = sprintf("%.0f", x)
	r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}

function fmtns(x) { return x < 100 ? sprintf("%.1f", x) : commas(x) }

# median of a[k, 1..m], sorted in place
function median(a, k, m,    i, j, t) {
	for (i = 2; i <= m; i++) {
		t = a[k, i]
		for (j = i - 1; j >= 1 && a[k, j] > t; j--) a[k, j + 1] = a[k, j]
		a[k, j + 1] = t
	}
	return m % 2 ? a[k, (m + 1) / 2] : (a[k, m / 2] + a[k, m / 2 + 1]) / 2
}

/^Benchmark/ {
	nf = split($0, f, /[ \t]+/)
	name = substr(f[1], 10) # drop "Benchmark"
	sub(/-[0-9]+$/, "", name) # GOMAXPROCS suffix; leaf names never end in digits
	if (!(name in n)) { border[++bkeys] = name; n[name] = 0 }
	i = ++n[name]
	for (j = 2; j < nf; j++) {
		if (f[j + 1] == "ns/op") ns[name, i] = f[j] + 0
		if (f[j + 1] == "allocs/op") al[name, i] = f[j] + 0
	}
	next
}

$1 == "peer" {
	line = $2
	if (line ~ /^#/) { sub(/^# */, "", line); peerinfo[++npinfo] = line; next }
	if (line !~ /^\|/) next
	c = split(line, col, "|") # col[1] and col[c] are empty
	for (j = 2; j < c; j++) col[j] = trim(col[j])
	if (col[3] == "ns/op") { # a header: "| sign, RS256-2048 | ns/op | × raw | allocs/op | vs golang-jwt/v5 | ..."
		op = col[2]
		sub(/,.*/, "", op)
		for (j = 6; j < c; j++) {
			p = col[j]
			sub(/^vs /, "", p)
			pcol[op, j - 5] = p
			if (!(p in peerseen)) { peerseen[p] = 1; peers[++npeers] = p }
		}
		pn[op] = c - 6
		next
	}
	if (col[3] !~ /^[0-9]/) next # the |---| line
	r = ++nprows
	prow_op[r] = op; prow_name[r] = col[2]; prow_ns[r] = col[3]; prow_raw[r] = col[4]; prow_al[r] = col[5]
	for (j = 1; j <= pn[op]; j++) pv[r, pcol[op, j]] = col[j + 5]
	next
}

$1 == "cli" { ncli++; cli_name[ncli] = $2; cli_med[ncli] = $3 + 0; cli_min[ncli] = $4 + 0; cli_rss[ncli] = $5; next }
$1 == "peercmd" { peercmd = $2; next }
$1 == "clicmd" { clicmd = $2; next }
$1 == "note" { notes[++nnotes] = $2; next }

# row prints one table line; vs[] holds the peer columns by peer name.
function row(opname, code, nsop, allocs, xraw,    j, s) {
	s = "| " opname " | " code " | " nsop " | " allocs " | " xraw " |"
	for (j = 1; j <= npeers; j++) s = s " " ((j in vs) ? vs[j] : "") " |"
	print s
	split("", vs)
}

function rsa(op) { return op == "sign" ? "rsa.SignPKCS1v15" : "rsa.VerifyPKCS1v15" }

END {
	if (bkeys == 0 && nprows == 0 && ncli == 0) { print "benchtable.awk: nothing to read" > "/dev/stderr"; exit 1 }
	for (x = 1; x <= bkeys; x++) {
		k = border[x]
		med[k] = median(ns, k, n[k])
		allocs[k] = median(al, k, n[k])
	}
	s = "| RS256-2048, one Qlik Cloud token | code | ns/op | allocs/op | × raw |"
	d = "|---|---|--:|--:|--:|"
	for (j = 1; j <= npeers; j++) { s = s " vs " peers[j] " |"; d = d "--:|" }
	print s
	print d
	for (r = 1; r <= nprows; r++) {
		for (j = 1; j <= npeers; j++) if ((r, peers[j]) in pv) vs[j] = pv[r, peers[j]]
		label = prow_op[r] == "sign" ? "sign, interleaved with raw (bench/)" : prow_op[r] == "verify" ? "verify + Qlik's rules, interleaved with raw (bench/)" : prow_op[r] " (bench/)"
		row(label, prow_name[r], prow_ns[r], prow_al[r], prow_raw[r])
	}
	split("Verify Sign", gops, " ") # bench.sh runs Verify only; Sign lines are shown if given
	split("RawRSA QSEoW Cloud", leaves, " ")
	for (g = 1; g <= 2; g++) {
		for (l = 1; l <= 3; l++) {
			k = gops[g] "/RS256-2048/" leaves[l]
			if (!(k in med)) continue
			code = leaves[l] == "RawRSA" ? "raw " rsa(tolower(gops[g])) : "qsjwt " leaves[l]
			# No ratio: separate benchmarks on a shared machine drift by more
			# than the differences (raw came out slower than qsjwt at load 10);
			# the bench/ rows give the ratios, from interleaved calls.
			row(tolower(gops[g]) ", go test -bench", code, fmtns(med[k]), allocs[k], "")
		}
	}
	k = "TokenSource/Cached"
	if (k in med) {
		row("cached QSEoW token (no signature), go test -bench", sprintf("qsjwt TokenSource: %.1f M tokens/s", 1000 / med[k]), fmtns(med[k]), allocs[k], "")
		cached = med[k]
	}
	for (c = 1; c <= ncli; c++)
		row("CLI: one Cloud token, whole process, hyperfine median", cli_name[c],
			sprintf("%.2f ms", cli_med[c] * 1000), "max RSS " (cli_rss[c] ~ /^[0-9]+$/ ? sprintf("%.1f MiB", cli_rss[c] / 1024) : "n/a"), "")
	print ""
	if (ncli == 2 && cli_med[1] > 0) {
		printf "CLI: qs-jwt %.1f × faster than the Node qs-jwt (ratio of hyperfine medians, %.2f ms against %.1f ms; of minimums %.1f ×), %s of its max RSS.\n",
			cli_med[2] / cli_med[1], cli_med[1] * 1000, cli_med[2] * 1000, cli_min[2] / cli_min[1],
			(cli_rss[1] ~ /^[0-9]+$/ && cli_rss[2] ~ /^[0-9]+$/) ? sprintf("%.0f %%", 100 * cli_rss[1] / cli_rss[2]) : "n/a"
	}
	if (cached != "") printf "Cached QSEoW token: %s tokens/s, %d allocs/op.\n", commas(1e9 / cached), allocs["TokenSource/Cached"]
	print "× raw: throughput as a share of the raw crypto/rsa operation (raw ns / ns), from bench/'s calls interleaved with raw (median of per-round ratios); go test rows are medians of separate runs, wall clock, without ratios."
	print "vs peer > 1: faster than that peer in the same bench/ run (the quotient of the two × raw)."
	for (j = 1; j <= npinfo; j++) print "bench/: " peerinfo[j]
	if (peercmd != "") print "bench/ command: " peercmd
	if (clicmd != "") print "CLI command: " clicmd
	for (j = 1; j <= nnotes; j++) print "Note: " notes[j]
}
