// Command bench compares qsjwt with golang-jwt/v5, go-jose/v4 and jwx/v2 on
// one Qlik Cloud token (RS256, 2048-bit key), each interleaved with the raw
// crypto/rsa operation, and prints one Markdown table: per library the
// median ns/op, its throughput as a ratio to raw (raw ns / library ns, in the
// same loop), allocations per operation, and its ratio to each peer.
//
// It is a module of its own so that the peers never become dependencies of
// qsjwt. Run from the repository (scripts/bench.sh does):
//
//	cd bench && go run . -rounds 7 -time 500ms
//
// Each round runs every candidate once, for -time, alternating one call of
// raw and one of the candidate (in alternating order) and timing each call,
// so that whatever else the machine does falls on both alike; the ratio of a
// round is the median raw call over the median candidate call, and the table
// shows the median of those over rounds. Ratios to a peer are the quotient
// of the two medians to raw.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 7, "interleaved rounds (medians are taken over them; at least 5)")
	per := flag.Duration("time", 500*time.Millisecond, "time per candidate per round")
	thread := flag.Bool("thread-cpu", false, "time calls by the CPU time of their thread (Linux), not the wall clock: "+
		"what other processes take is left out, and so is work of the garbage collector's background workers")
	flag.Parse()
	if *thread {
		runtime.LockOSThread()
		clockNow = threadClock
		clockName = "thread CPU time"
	}
	if err := run(os.Stdout, *rounds, *per); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// result is one candidate's figures over the rounds.
type result struct {
	cand         candidate
	ratios, nsop []float64
	allocs       float64
}

func run(w *os.File, rounds int, per time.Duration) error {
	s, err := newSetup()
	if err != nil {
		return err
	}
	rawSign, sign, err := signers(s)
	if err != nil {
		return err
	}
	rawVerify, verify, err := verifiers(s)
	if err != nil {
		return err
	}
	groups := []struct {
		op  string
		raw func() error
		res []*result
	}{{"sign", rawSign, results(sign)}, {"verify", rawVerify, results(verify)}}
	for _, g := range groups {
		for _, r := range g.res {
			if err := r.cand.run(); err != nil { // each candidate works before it is timed
				return fmt.Errorf("%s %s: %w", g.op, r.cand.name, err)
			}
			r.allocs = testing.AllocsPerRun(200, func() { _ = r.cand.run() })
		}
	}
	start := time.Now()
	for i := range rounds {
		fmt.Fprintf(os.Stderr, "round %d/%d\n", i+1, rounds)
		for _, g := range groups {
			for j := range g.res { // each round starts with another candidate: no place in the order is always first
				r := g.res[(i+j)%len(g.res)]
				ratio, ns, err := interleave(g.raw, r.cand.run, per)
				if err != nil {
					return fmt.Errorf("%s %s: %w", g.op, r.cand.name, err)
				}
				r.ratios = append(r.ratios, ratio)
				r.nsop = append(r.nsop, ns)
			}
		}
	}
	fmt.Fprintf(w, "# %s, %s, GOMAXPROCS %d, %s, load average %s; %d interleaved rounds of %v per candidate, medians of calls timed by %s (%s)\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.Version(), runtime.GOMAXPROCS(0), cpuModel(), loadAvg(), rounds, per, clockName, time.Since(start).Round(time.Second))
	fmt.Fprintf(w, "# RS256-2048, the same Qlik Cloud claims for every library; \"× raw\" is the throughput as a share of raw crypto/rsa in the same loop\n\n")
	for _, g := range groups {
		var peers []*result
		for _, r := range g.res {
			if r.cand.peer {
				peers = append(peers, r)
			}
		}
		fmt.Fprintf(w, "| %s, RS256-2048 | ns/op | × raw | allocs/op |", g.op)
		for _, p := range peers {
			fmt.Fprintf(w, " vs %s |", p.cand.name)
		}
		fmt.Fprintf(w, "\n|---|---:|---:|---:|%s\n", strings.Repeat("---:|", len(peers)))
		for _, r := range g.res {
			fmt.Fprintf(w, "| %s | %s | %.3f | %.0f |", r.cand.name, commas(median(r.nsop)), median(r.ratios), r.allocs)
			for _, p := range peers {
				if p == r {
					fmt.Fprint(w, " — |")
					continue
				}
				fmt.Fprintf(w, " %.3f |", median(r.ratios)/median(p.ratios))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\"vs peer\" > 1: faster than that peer (the quotient of the two medians × raw).")
	return nil
}

func results(cs []candidate) []*result {
	res := make([]*result, len(cs))
	for i, c := range cs {
		res[i] = &result{cand: c}
	}
	return res
}

// interleave calls raw and f alternately, in alternating order, for about d,
// timing every call, and returns the median raw call over the median f call
// (the throughput of f as a share of raw's) and f's median ns per call.
// Medians of single calls, not sums: on a shared machine a call that loses
// its core for a time slice counts once, as one slow call, instead of
// adding milliseconds to one side's total.
func interleave(raw, f func() error, d time.Duration) (ratio, ns float64, err error) {
	calls := [2]func() error{raw, f}
	var took [2][]float64
	for n, deadline := 0, time.Now().Add(d); n < 10 || time.Now().Before(deadline); n++ {
		first := n % 2
		t0 := clockNow()
		err := calls[first]()
		t1 := clockNow()
		if e := calls[1-first](); err == nil {
			err = e
		}
		t2 := clockNow()
		took[first] = append(took[first], float64(t1-t0))
		took[1-first] = append(took[1-first], float64(t2-t1))
		if err != nil {
			return 0, 0, err
		}
	}
	r, c := median(took[0]), median(took[1])
	return r / c, c, nil
}

// clockNow reads the clock calls are timed with, in nanoseconds.
var (
	clockNow  = func() int64 { return time.Now().UnixNano() }
	clockName = "the wall clock"
)

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func commas(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return runtime.GOARCH
}
