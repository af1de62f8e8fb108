# benchtable.awk turns the lines of several `go test -bench` runs into the
# Markdown table scripts/bench.sh prints: per benchmark and GOMAXPROCS the
# median ns/op, tokens/s, allocs/op, the spread of the runs, and throughput as
# a ratio to the RawRSA benchmark of the same group, then the issue-6 targets.
# POSIX awk (mawk, gawk, BSD awk).

/^Benchmark/ && / ns\/op/ {
	name = substr($1, 10) # drop "Benchmark"
	procs = 1
	if (match(name, /-[0-9]+$/)) { # GOMAXPROCS suffix; leaf names never end in digits
		procs = substr(name, RSTART + 1) + 0
		name = substr(name, 1, RSTART - 1)
	}
	k = name SUBSEP procs
	if (!(k in n)) { order[++keys] = k; n[k] = 0 }
	if (serial == "" && name !~ /^Parallel\//) serial = procs
	i = ++n[k]
	for (f = 3; f < NF; f++) {
		if ($(f + 1) == "ns/op") ns[k, i] = $f + 0
		if ($(f + 1) == "allocs/op") al[k, i] = $f + 0
		if ($(f + 1) == "raw/sign") rr[k, i] = $f + 0
		if ($(f + 1) == "sign-ns/op") sn[k, i] = $f + 0
	}
}

# median of a[k, 1..m], sorted in place
function median(a, k, m,    i, j, t) {
	for (i = 2; i <= m; i++) {
		t = a[k, i]
		for (j = i - 1; j >= 1 && a[k, j] > t; j--) a[k, j + 1] = a[k, j]
		a[k, j + 1] = t
	}
	return m % 2 ? a[k, (m + 1) / 2] : (a[k, m / 2] + a[k, m / 2 + 1]) / 2
}

function commas(x,    s, r) {
	s = sprintf("%.0f", x)
	r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}

function fmtns(x) { return x < 100 ? sprintf("%.1f", x) : commas(x) }

# rawkey is the RawRSA benchmark a benchmark compares with, or "".
function rawkey(name, procs,    p, k) {
	p = name
	sub(/\/[^\/]*$/, "", p)
	k = p "/RawRSA" SUBSEP procs
	if (p != name && k in med) return k
	if (name ~ /^JWX\//) { # jwx alone signs RS256-2048 tokens
		k = "Sign/RS256-2048/RawRSA" SUBSEP procs
		if (k in med) return k
	}
	return ""
}

function get(name, procs) { return ((name SUBSEP procs) in med) ? med[name SUBSEP procs] : "" }

function verdict(ok) { return ok ? "met" : "**missed**" }

END {
	if (keys == 0) { print "no benchmark lines read" > "/dev/stderr"; exit 1 }
	for (x = 1; x <= keys; x++) {
		k = order[x]
		if ((k, 1) in sn) { # BenchmarkInterleaved: Sign's own time and its ratio to the raw signature
			for (i = 1; i <= n[k]; i++) ns[k, i] = sn[k, i]
			inter[k] = median(rr, k, n[k])
		}
		lo = hi = ns[k, 1]
		for (i = 2; i <= n[k]; i++) { if (ns[k, i] < lo) lo = ns[k, i]; if (ns[k, i] > hi) hi = ns[k, i] }
		med[k] = median(ns, k, n[k])
		allocs[k] = median(al, k, n[k])
		spread[k] = (hi - lo) / med[k] * 100
	}
	print "| benchmark | procs | ns/op | tokens/s | allocs/op | spread | × raw RSA |"
	print "|---|--:|--:|--:|--:|--:|--:|"
	for (x = 1; x <= keys; x++) {
		k = order[x]
		split(k, kp, SUBSEP)
		r = rawkey(kp[1], kp[2])
		ratio = (r == "" || r == k) ? "" : sprintf("%.3f", med[r] / med[k])
		a = allocs[k]
		if (k in inter) { ratio = sprintf("%.3f", inter[k]); a = "" }
		printf "| %s | %d | %s | %s | %s | %.1f%% | %s |\n", kp[1], kp[2], fmtns(med[k]), commas(1e9 / med[k]), a, spread[k], ratio
	}
	print ""
	print "procs is GOMAXPROCS; spread is (max - min) / median over the rounds; × raw RSA is the"
	print "throughput relative to the RawRSA line of the same group and procs (1.000 = the raw signature)."
	print "Interleaved lines time Sign and the raw signature alternately in one loop: their ns/op is"
	print "Sign's alone and × raw RSA the median of the per-round ratios, the figure least touched by"
	print "other work on the machine."
	print ""
	print "Targets:"
	for (v = 1; v <= 2; v++) {
		b = v == 1 ? "QSEoW" : "Cloud"
		s = get("Sign/RS256-2048/" b, serial); raw = get("Sign/RS256-2048/RawRSA", serial)
		ki = "Interleaved/RS256-2048/" b SUBSEP serial
		if (ki in inter)
			printf "- Sign %s RS256-2048: %.3f × the raw signature's throughput, interleaved (%s in separate benchmarks) (target ≥ 0.97): %s\n", b, inter[ki], (s != "" && raw != "") ? sprintf("%.3f", raw / s) : "n/a", verdict(inter[ki] >= 0.97)
		else if (s != "" && raw != "")
			printf "- Sign %s RS256-2048: %.3f × the raw signature's throughput (target ≥ 0.97): %s\n", b, raw / s, verdict(raw / s >= 0.97)
	}
	ki = "Interleaved/RS256-2048/RawRSA" SUBSEP serial
	if (ki in inter) printf "  (noise floor: the raw signature interleaved with itself gives %.3f)\n", inter[ki]
	raw = get("Sign/RS256-2048/RawRSA", serial)
	s = get("Encode", serial) # internal/engine's BenchmarkEncode: a Cloud token without its RSA operation
	if (s != "" && raw != "")
		printf "- Cloud token without the RSA operation (engine Encode): %.1f µs, %.1f%% of the raw RS256-2048 signature\n", s / 1000, 100 * s / raw
	split("RawRSA QSEoW Cloud", pv, " ")
	for (v = 1; v <= 3; v++) {
		one = get("Parallel/RS256-2048/" pv[v], 1); two = get("Parallel/RS256-2048/" pv[v], 2)
		if (one != "" && two != "")
			printf "- Parallel %s: %.2f × the one-core throughput on 2 cores (target ≥ 1.8%s): %s\n", pv[v], one / two, pv[v] == "RawRSA" ? ", the floor's own scaling" : "", verdict(one / two >= 1.8)
	}
	split("Cached Cached-Parallel", tv, " ")
	for (v = 1; v <= 2; v++) {
		t = get("TokenSource/" tv[v], serial)
		if (t != "") printf "- TokenSource %s: %s tokens/s, no signature (target ≥ 1,000,000): %s\n", tv[v], commas(1e9 / t), verdict(1e9 / t >= 1e6)
	}
	for (v = 1; v <= 2; v++) {
		b = v == 1 ? "QSEoW" : "Cloud"
		kq = "Sign/RS256-2048/" b SUBSEP serial; kj = "JWX/" b SUBSEP serial
		if ((kq in allocs) && (kj in allocs))
			printf "- Allocations per %s Sign: %d; jwx alone, same token: %d (target ≤): %s\n", b, allocs[kq], allocs[kj], verdict(allocs[kq] <= allocs[kj])
	}
	for (v = 1; v <= 2; v++) {
		b = v == 1 ? "QSEoW" : "Cloud"
		s = get("Verify/RS256-2048/" b, serial); raw = get("Verify/RS256-2048/RawRSA", serial)
		if (s != "" && raw != "")
			printf "- Verify %s RS256-2048: %.3f × rsa.VerifyPKCS1v15's throughput (no stated target)\n", b, raw / s
	}
}
