package qsjwt

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The benchmarks put qsjwt beside the raw RSA signature it wraps, in the same
// run: each group (BenchmarkSign/RS256-2048, …) starts with RawRSA, the
// floor, followed by the builders. scripts/bench.sh runs them several times,
// with the parallel ones at -cpu 1,2, and prints medians, tokens per second
// and the ratios to the floor. Nothing here asserts on time.

var (
	benchMu   sync.Mutex
	benchKeys = map[int]*rsa.PrivateKey{}
)

// benchKey returns an RSA key of the given size: the committed 2048-bit test
// key, or one generated on first use (outside the timings).
func benchKey(b *testing.B, bits int) *rsa.PrivateKey {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if k, ok := benchKeys[bits]; ok {
		return k
	}
	k := testKey(b)
	if bits != k.N.BitLen() {
		var err error
		k, err = rsa.GenerateKey(rand.Reader, bits)
		require.NoError(b, err)
	}
	benchKeys[bits] = k
	return k
}

var benchQSEoWUser = QSEoWUser{UserDirectory: "GRUSGRUS", UserID: "anna", Name: "Anna Andersson",
	Email: "anna@example.com", Groups: []string{"g1", "group 2"}}

var benchCloudUser = CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com",
	EmailVerified: true, Groups: []string{"g1"}}

func benchQSEoW(b *testing.B, s Signer, alg Algorithm, opts ...QSEoWOption) *QSEoW {
	b.Helper()
	q, err := NewQSEoW(s, append([]QSEoWOption{WithAlgorithm(alg), WithAudience("hdJh34wkK")}, opts...)...)
	require.NoError(b, err)
	return q
}

func benchCloud(b *testing.B, s Signer, opts ...CloudOption) *Cloud {
	b.Helper()
	c, err := NewCloud(s, "tenant.eu.qlikcloud.com", "kid", opts...)
	require.NoError(b, err)
	return c
}

func benchSigner(b *testing.B, key crypto.Signer) Signer {
	b.Helper()
	s, err := SignerFromCrypto(key)
	require.NoError(b, err)
	return s
}

// benchSigningInput returns the JWS signing input (header.payload) of a real
// Qlik Cloud token, the larger of the two variants': what RawRSA hashes.
func benchSigningInput(b *testing.B, key *rsa.PrivateKey) []byte {
	b.Helper()
	tok, err := benchCloud(b, benchSigner(b, key)).Sign(context.Background(), benchCloudUser)
	require.NoError(b, err)
	return []byte(tok.Raw[:strings.LastIndexByte(tok.Raw, '.')])
}

// benchRawSign is the floor: the hash of the signing input and rsa.SignPKCS1v15,
// what any JWT library must at least spend.
func benchRawSign(key *rsa.PrivateKey, h crypto.Hash, input []byte) error {
	var sum []byte
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(input)
		sum = s[:]
	case crypto.SHA384:
		s := sha512.Sum384(input)
		sum = s[:]
	case crypto.SHA512:
		s := sha512.Sum512(input)
		sum = s[:]
	}
	_, err := rsa.SignPKCS1v15(nil, key, h, sum)
	return err
}

// benchLoop runs sign b.N times, reporting allocations.
func benchLoop(b *testing.B, sign func() error) {
	b.ReportAllocs()
	for b.Loop() {
		if err := sign(); err != nil {
			b.Fatal(err)
		}
	}
}

// opaqueSigner hides the *rsa.PrivateKey behind crypto.Signer, as an HSM or
// KMS adapter does.
type opaqueSigner struct{ key *rsa.PrivateKey }

func (s opaqueSigner) Public() crypto.PublicKey { return s.key.Public() }
func (s opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.key.Sign(r, digest, opts)
}

// BenchmarkSign compares, per algorithm and key size, the raw signature
// (RawRSA) with QSEoW.Sign and Cloud.Sign (Qlik Cloud takes RS256 only).
// The RS256-2048 group also signs through the other kinds of Signer: an
// opaque crypto.Signer, a SignerFunc and a key read with SignerFromPEM.
func BenchmarkSign(b *testing.B) {
	ctx := context.Background()
	for _, g := range []struct {
		alg  Algorithm
		bits int
	}{{RS256, 2048}, {RS256, 3072}, {RS256, 4096}, {RS384, 2048}, {RS512, 2048}} {
		b.Run(string(g.alg)+"-"+strconv.Itoa(g.bits), func(b *testing.B) {
			key := benchKey(b, g.bits)
			input := benchSigningInput(b, benchKey(b, 2048))
			b.Run("RawRSA", func(b *testing.B) { benchLoop(b, func() error { return benchRawSign(key, g.alg.Hash(), input) }) })
			q := benchQSEoW(b, benchSigner(b, key), g.alg)
			b.Run("QSEoW", func(b *testing.B) { benchLoop(b, func() error { _, err := q.Sign(ctx, benchQSEoWUser); return err }) })
			if g.alg != RS256 {
				return
			}
			c := benchCloud(b, benchSigner(b, key))
			b.Run("Cloud", func(b *testing.B) { benchLoop(b, func() error { _, err := c.Sign(ctx, benchCloudUser); return err }) })
			if g.bits != 2048 {
				return
			}
			for _, s := range []struct {
				name   string
				signer Signer
			}{
				{"Cloud-CryptoSigner", benchSigner(b, opaqueSigner{key})},
				{"Cloud-SignerFunc", SignerFunc(key.Public(), func(_ context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
					return key.Sign(nil, digest, h)
				})},
				{"Cloud-PEM", benchPEMSigner(b, key)},
			} {
				c := benchCloud(b, s.signer)
				b.Run(s.name, func(b *testing.B) { benchLoop(b, func() error { _, err := c.Sign(ctx, benchCloudUser); return err }) })
			}
		})
	}
}

// BenchmarkInterleaved alternates the raw signature and Sign in one loop and
// times each call, so that whatever else the machine does while it runs falls
// on both alike. Its metrics are each side's ns/op and raw/sign, the
// throughput of Sign relative to the raw signature: the fairest figure for
// the target on a shared machine. Its allocs/op are those of both calls.
// Interleaved/RS256-2048/RawRSA times the raw signature against itself: how
// far from 1 its ratio lies is how far to trust the others.
func BenchmarkInterleaved(b *testing.B) {
	key := benchKey(b, 2048)
	input := benchSigningInput(b, key)
	q, c := benchQSEoW(b, benchSigner(b, key), RS256), benchCloud(b, benchSigner(b, key))
	ctx := context.Background()
	for _, v := range []struct {
		name string
		sign func() error
	}{
		// RawRSA against itself: the noise floor of the method.
		{"RawRSA", func() error { return benchRawSign(key, crypto.SHA256, input) }},
		{"QSEoW", func() error { _, err := q.Sign(ctx, benchQSEoWUser); return err }},
		{"Cloud", func() error { _, err := c.Sign(ctx, benchCloudUser); return err }},
	} {
		b.Run("RS256-2048/"+v.name, func(b *testing.B) {
			calls := [2]func() error{func() error { return benchRawSign(key, crypto.SHA256, input) }, v.sign}
			var took [2]time.Duration // raw, sign
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				first := n % 2 // alternate the order, so that neither always runs first
				t0 := time.Now()
				err := calls[first]()
				t1 := time.Now()
				err = errors.Join(err, calls[1-first]())
				took[first] += t1.Sub(t0)
				took[1-first] += time.Since(t1)
				require.NoError(b, err)
				n++
			}
			raw, sign := took[0], took[1]
			b.ReportMetric(float64(raw.Nanoseconds())/float64(n), "raw-ns/op")
			b.ReportMetric(float64(sign.Nanoseconds())/float64(n), "sign-ns/op")
			b.ReportMetric(float64(raw)/float64(sign), "raw/sign")
		})
	}
}

// benchPEMSigner reads key back from PKCS #8 PEM with SignerFromPEM: the key is
// parsed once, here, and never per token.
func benchPEMSigner(b *testing.B, key *rsa.PrivateKey) Signer {
	b.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(b, err)
	s, err := SignerFromPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	require.NoError(b, err)
	return s
}

// BenchmarkParallel runs the raw signature and Sign on GOMAXPROCS goroutines
// (b.RunParallel). Run it with -cpu 1,2: the ratio of the two throughputs
// is the scaling over cores.
func BenchmarkParallel(b *testing.B) {
	b.Run("RS256-2048", func(b *testing.B) {
		key := benchKey(b, 2048)
		input := benchSigningInput(b, key)
		q, c := benchQSEoW(b, benchSigner(b, key), RS256), benchCloud(b, benchSigner(b, key))
		ctx := context.Background()
		for _, v := range []struct {
			name string
			sign func() error
		}{
			{"RawRSA", func() error { return benchRawSign(key, crypto.SHA256, input) }},
			{"QSEoW", func() error { _, err := q.Sign(ctx, benchQSEoWUser); return err }},
			{"Cloud", func() error { _, err := c.Sign(ctx, benchCloudUser); return err }},
		} {
			b.Run(v.name, func(b *testing.B) { benchParallel(b, v.sign) })
		}
	})
}

// benchParallel runs sign on every core until b.N calls are done.
func benchParallel(b *testing.B, sign func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := sign(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerify compares the verifiers, which check the signature and every
// rule of Qlik's, with rsa.VerifyPKCS1v15 over the hash of the signing input
// (RawRSA), on tokens signed with a fixed clock.
func BenchmarkVerify(b *testing.B) {
	b.Run("RS256-2048", func(b *testing.B) {
		key := benchKey(b, 2048)
		q := benchQSEoW(b, benchSigner(b, key), RS256, WithClock(fixedClock))
		qtok, err := q.Sign(context.Background(), benchQSEoWUser)
		require.NoError(b, err)
		c := benchCloud(b, benchSigner(b, key), WithClock(fixedClock))
		ctok, err := c.Sign(context.Background(), benchCloudUser)
		require.NoError(b, err)
		qv, err := NewQSEoWVerifier(key.Public(), WithAudience("hdJh34wkK"), WithClock(fixedClock))
		require.NoError(b, err)
		cv, err := NewCloudVerifier(key.Public(), WithIssuer("tenant.eu.qlikcloud.com"), WithKeyID("kid"), WithClock(fixedClock))
		require.NoError(b, err)
		dot := strings.LastIndexByte(ctok.Raw, '.')
		input := []byte(ctok.Raw[:dot])
		sig, err := base64.RawURLEncoding.DecodeString(ctok.Raw[dot+1:])
		require.NoError(b, err)
		b.Run("RawRSA", func(b *testing.B) {
			benchLoop(b, func() error {
				sum := sha256.Sum256(input)
				return rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig)
			})
		})
		b.Run("QSEoW", func(b *testing.B) { benchLoop(b, func() error { _, err := qv.Verify(qtok.Raw); return err }) })
		b.Run("Cloud", func(b *testing.B) { benchLoop(b, func() error { _, err := cv.Verify(ctok.Raw); return err }) })
	})
}

// BenchmarkTokenSource is the cached path: QSEoW.TokenSource hands out the
// token it signed until shortly before it expires, so a call costs no
// signature. The builder reads the real clock, as in production.
func BenchmarkTokenSource(b *testing.B) {
	q := benchQSEoW(b, benchSigner(b, benchKey(b, 2048)), RS256)
	ctx := context.Background()
	for _, v := range []struct {
		name string
		run  func(*testing.B, func() error)
	}{{"Cached", benchLoop}, {"Cached-Parallel", benchParallel}} {
		ts := q.TokenSource(benchQSEoWUser)
		_, err := ts.Token(ctx) // the one signature, outside the timing
		require.NoError(b, err)
		b.Run(v.name, func(b *testing.B) { v.run(b, func() error { _, err := ts.Token(ctx); return err }) })
	}
}
