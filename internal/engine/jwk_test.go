package engine

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"math"
	"math/big"
	"os"
	"testing"

	"github.com/qsjwt/qsjwt/internal/engine/enginetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixturePublicKey reads the public key of a PEM fixture in the module's
// testdata: a PUBLIC KEY, an RSA PUBLIC KEY or a PKCS #8 PRIVATE KEY.
func fixturePublicKey(t testing.TB, name string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile("../../testdata/test-only-" + name)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block, "no PEM block in %s", name)
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		require.NoError(t, err, name)
		return pub
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
		require.NoError(t, err, name)
		return pub
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		require.NoError(t, err, name)
		return key.(crypto.Signer).Public()
	}
	t.Fatalf("%s: PEM block %q", name, block.Type)
	return nil
}

// publicJWKCase is one input of PublicJWK whose output is pinned.
type publicJWKCase struct {
	name string
	pub  *rsa.PublicKey
	kid  string
}

// publicJWKCases are the fixture keys, the FastKey and exponents from 1 to
// the largest int, each with key IDs that need JSON escaping.
func publicJWKCases(t testing.TB) []publicJWKCase {
	rsa2048 := fixturePublicKey(t, "rsa2048-public.pem").(*rsa.PublicKey)
	keys := []struct {
		name string
		pub  *rsa.PublicKey
	}{
		{"rsa2048", rsa2048},
		{"rsa2048-pkcs1", fixturePublicKey(t, "rsa2048-public-pkcs1.pem").(*rsa.PublicKey)},
		{"rsa1024", fixturePublicKey(t, "rsa1024-pkcs8.pem").(*rsa.PublicKey)},
		{"fastkey", enginetest.NewFastKey().PublicKey()},
	}
	for _, e := range []int{1, 3, 65535, 1<<31 - 1, 1<<32 + 1, math.MaxInt64} {
		keys = append(keys, struct {
			name string
			pub  *rsa.PublicKey
		}{fmt.Sprintf("rsa2048-e%d", e), &rsa.PublicKey{N: rsa2048.N, E: e}})
	}
	keys = append(keys, struct {
		name string
		pub  *rsa.PublicKey
	}{"n1", &rsa.PublicKey{N: big.NewInt(1), E: 65537}})
	var cases []publicJWKCase
	for _, k := range keys {
		kids := []string{"kid-1"}
		if k.name == "rsa2048" {
			kids = append(kids, "", `a "quoted" <kid> & ünïcode`, "\u2028\u2029", "\x00\x1f\x7f", "bad \xff kid", `\/`, "\U0001F600")
		}
		for _, kid := range kids {
			cases = append(cases, publicJWKCase{name: fmt.Sprintf("%s kid=%q", k.name, kid), pub: k.pub, kid: kid})
		}
	}
	return cases
}

var updatePublicJWK = flag.Bool("update-publicjwk", false, "rewrite testdata/publicjwk.golden from PublicJWK")

// TestPublicJWKPinned pins PublicJWK's output byte for byte: the golden
// file was written by the jwx-based PublicJWK (jwk.FromRaw, Set, json.Marshal)
// before it was rewritten on the standard library, so the JWKs qs-jwt writes
// stay what they were. Do not regenerate it to make a change pass.
func TestPublicJWKPinned(t *testing.T) {
	const golden = "testdata/publicjwk.golden"
	var out bytes.Buffer
	for _, c := range publicJWKCases(t) {
		data, err := PublicJWK(c.pub, c.kid)
		require.NoError(t, err, c.name)
		fmt.Fprintf(&out, "%s\t%s\n", c.name, data)
	}
	if *updatePublicJWK {
		require.NoError(t, os.WriteFile(golden, out.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	wantLines := readLines(t, want)
	gotLines := readLines(t, out.Bytes())
	require.Equal(t, len(wantLines), len(gotLines), "cases")
	for i := range wantLines {
		assert.Equal(t, wantLines[i], gotLines[i])
	}
}

func readLines(t testing.TB, data []byte) []string {
	var lines []string
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	require.NoError(t, s.Err())
	return lines
}

