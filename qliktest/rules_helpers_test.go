package qliktest_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/stretchr/testify/require"
)

// This file holds the machinery of rules_test.go: tokens built by hand over
// exact bytes, and the two judges (qsjwt's verifier, the emulator) asked
// about the same token.

// object is a JSON object written member by member, so that a test can give
// a name twice or write a number exactly as it wants (1.5, 1e9).
type object []member

type member struct{ name, raw string }

// set replaces the first member called name, or appends it.
func (o object) set(name, raw string) object {
	out := append(object(nil), o...)
	for i := range out {
		if out[i].name == name {
			out[i].raw = raw
			return out
		}
	}
	return append(out, member{name, raw})
}

// del removes every member called name.
func (o object) del(name string) object {
	var out object
	for _, m := range o {
		if m.name != name {
			out = append(out, m)
		}
	}
	return out
}

// dup appends name once more, whether or not it is there.
func (o object) dup(name, raw string) object {
	return append(append(object(nil), o...), member{name, raw})
}

func (o object) json() string {
	parts := make([]string, len(o))
	for i, m := range o {
		parts[i] = strconv.Quote(m.name) + ":" + m.raw
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// alg reads the header's alg, unquoted; "" when it is not a plain string.
func (o object) alg() string {
	for _, m := range o {
		if m.name == "alg" {
			s, err := strconv.Unquote(m.raw)
			if err == nil {
				return s
			}
		}
	}
	return ""
}

// q quotes a string as JSON (the test strings need no escapes beyond Go's).
func q(s string) string { return strconv.Quote(s) }

// at is start + d as a NumericDate.
func at(d time.Duration) string { return strconv.FormatInt(start.Add(d).Unix(), 10) }

var b64 = base64.RawURLEncoding

// sign builds the compact token of header and claims with key. edit, when
// not nil, changes the two encoded segments before signing, so that the
// signature covers exactly the bytes that are sent. RS* are PKCS #1 v1.5,
// PS* RSA-PSS; any other alg gets a signature no key makes.
func sign(t testing.TB, key *rsa.PrivateKey, header, claims object, edit func(h, c string) (string, string)) string {
	t.Helper()
	h, c := b64.EncodeToString([]byte(header.json())), b64.EncodeToString([]byte(claims.json()))
	if edit != nil {
		h, c = edit(h, c)
	}
	input := h + "." + c
	hashes := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}
	alg := header.alg()
	hash, ok := hashes[strings.TrimLeft(alg, "RPS")]
	var sig []byte
	var err error
	switch {
	case ok && strings.HasPrefix(alg, "RS"):
		d := hash.New()
		d.Write([]byte(input))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, hash, d.Sum(nil))
	case ok && strings.HasPrefix(alg, "PS"):
		d := hash.New()
		d.Write([]byte(input))
		sig, err = rsa.SignPSS(rand.Reader, key, hash, d.Sum(nil), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		sig = []byte("no key made this signature")
	}
	require.NoError(t, err)
	return input + "." + b64.EncodeToString(sig)
}

// readKey reads a test-only PKCS #8 key from the repository's testdata.
func readKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("../testdata/" + name)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block, name)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	return k.(*rsa.PrivateKey)
}

// certificate makes the self-signed certificate Qlik would hold for key.
func certificate(t testing.TB, key *rsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "qsjwt rules test"},
		NotBefore: start.Add(-time.Hour), NotAfter: start.Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

// variant is Qlik Cloud or QSEoW.
type variant string

const (
	cloud variant = "Qlik Cloud"
	qseow variant = "QSEoW"
)

// decision is what a judge does with a token.
type decision string

const (
	accept        decision = "accept"
	refuse        decision = "refuse"        // the token is refused
	refuseSetting decision = "refuse config" // the configuration is, before any token
)

// setting is the configuration of the identity provider or virtual proxy,
// the same for both judges.
type setting struct {
	cert      *x509.Certificate
	tolerance time.Duration // 0: the default; noTolerance: none
	audience  string        // QSEoW's JWT audience
}

const noTolerance = -1

// newVerifier makes qsjwt's verifier for a setting and returns its Verify.
// It is the only place that calls the verifier constructors, so that the
// 1.0 signatures (NewQSEoWVerifier(key, opts...), NewCloudVerifier(key,
// opts...)) are a change here only.
func newVerifier(v variant, s setting, now func() time.Time) (func(string) error, error) {
	skew := []qsjwt.VerifierOption{}
	switch {
	case s.tolerance == noTolerance:
		skew = append(skew, qsjwt.WithClockSkew(0))
	case s.tolerance != 0:
		skew = append(skew, qsjwt.WithClockSkew(s.tolerance))
	}
	if v == cloud {
		opts := []qsjwt.CloudVerifierOption{qsjwt.WithClock(now),
			qsjwt.WithIssuer(qliktest.DefaultIssuer), qsjwt.WithKeyID(qliktest.DefaultKeyID)}
		for _, o := range skew {
			opts = append(opts, o)
		}
		ver, err := qsjwt.NewCloudVerifier(s.cert, opts...)
		if err != nil {
			return nil, err
		}
		return func(tok string) error { _, err := ver.Verify(tok); return err }, nil
	}
	opts := []qsjwt.QSEoWVerifierOption{qsjwt.WithClock(now)}
	for _, o := range skew {
		opts = append(opts, o)
	}
	if s.audience != "" {
		opts = append(opts, qsjwt.WithAudience(s.audience))
	}
	ver, err := qsjwt.NewQSEoWVerifier(s.cert, opts...)
	if err != nil {
		return nil, err
	}
	return func(tok string) error { _, err := ver.Verify(tok); return err }, nil
}

// verifierDecides asks qsjwt's verifier; why lists the refused problems'
// claims.
func verifierDecides(v variant, s setting, tok string) (d decision, why []string, err error) {
	verify, err := newVerifier(v, s, func() time.Time { return start })
	if err != nil {
		return refuseSetting, nil, err
	}
	err = verify(tok)
	if err == nil {
		return accept, nil, nil
	}
	var ve *qsjwt.VerifyError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			if !p.Warning {
				why = append(why, p.Claim)
			}
		}
	}
	return refuse, why, err
}

// emulator is a started emulator, or the reason it would not start.
type emulator struct {
	cloud   *qliktest.Cloud
	qseow   *qliktest.QSEoW
	refused string
}

func (e *emulator) Close() {
	if e.cloud != nil {
		e.cloud.Close()
	}
	if e.qseow != nil {
		e.qseow.Close()
	}
}

// startEmulator starts the emulator of a setting; a panic (the emulator
// refusing its configuration, as httptest does) is recorded, not raised.
func startEmulator(v variant, s setting) (e *emulator) {
	e = &emulator{}
	defer func() {
		if r := recover(); r != nil {
			e.refused = fmt.Sprint(r)
		}
	}()
	now := qliktest.NewClock(start).Now
	if v == cloud {
		e.cloud = qliktest.NewCloud(qliktest.CloudConfig{Certificate: s.cert, ClockTolerance: s.tolerance, Now: now, PlainHTTP: true})
	} else {
		e.qseow = qliktest.NewQSEoW(qliktest.QSEoWConfig{Certificate: s.cert, ClockTolerance: s.tolerance, Audience: s.audience,
			Now: now, PlainHTTP: true, MaxSessionsPerUser: 1000})
	}
	return e
}

// login presents tok as a client would: POST /login/jwt-session on Qlik
// Cloud, a QPS call with a Bearer header on QSEoW.
func (e *emulator) login(t testing.TB, tok string) (decision, qlikErr) {
	t.Helper()
	if e.refused != "" {
		return refuseSetting, qlikErr{Detail: e.refused}
	}
	hdr := map[string]string{"Authorization": "Bearer " + tok}
	var resp *http.Response
	var qe qlikErr
	if e.cloud != nil {
		resp, _, qe = do(t, e.cloud.Client(), http.MethodPost, e.cloud.URL+"/login/jwt-session", hdr)
	} else {
		hdr["X-Qlik-Xrfkey"] = xrf
		resp, _, qe = do(t, e.qseow.Client(), http.MethodGet, e.qseow.ProxyURL+"/qps/user?xrfkey="+xrf, hdr)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return accept, qe
	case http.StatusBadRequest, http.StatusUnauthorized:
		return refuse, qe
	}
	t.Fatalf("the emulator answered %d %s: neither an acceptance nor a token refusal", resp.StatusCode, qe.Code)
	return "", qe
}

// builderRow asks qsjwt's builder for a token: the decision is the
// builder's (refuse config: the constructor fails; refuse: Sign fails), and
// a token it makes must be accepted by the verifier and the emulator.
type builderRow struct {
	id, name string
	v        variant
	want     decision
	key      keyName // "": the key Qlik holds
	ttl      time.Duration
	alg      qsjwt.Algorithm
	cloud    qsjwt.CloudUser
	qseow    qsjwt.QSEoWUser
}

// build runs qsjwt's builder for a row. It is the only place that calls the
// builder constructors, so that the 1.0 signatures (NewQSEoW(signer,
// opts...), NewCloud(signer, issuer, keyID, opts...)) are a change here
// only.
func build(b builderRow, key *rsa.PrivateKey) (string, decision, error) {
	signer, err := qsjwt.SignerFromCrypto(key)
	if err != nil {
		return "", refuseSetting, err
	}
	common := []qsjwt.BuilderOption{qsjwt.WithClock(func() time.Time { return start })}
	if b.ttl != 0 {
		common = append(common, qsjwt.WithTTL(b.ttl))
	}
	var tok qsjwt.Token
	if b.v == cloud {
		var opts []qsjwt.CloudOption
		for _, o := range common {
			opts = append(opts, o)
		}
		builder, err := qsjwt.NewCloud(signer, qliktest.DefaultIssuer, qliktest.DefaultKeyID, opts...)
		if err != nil {
			return "", refuseSetting, err
		}
		if tok, err = builder.Sign(context.Background(), b.cloud); err != nil {
			return "", refuse, err
		}
		return tok.Raw, accept, nil
	}
	var opts []qsjwt.QSEoWOption
	for _, o := range common {
		opts = append(opts, o)
	}
	if b.alg != "" {
		opts = append(opts, qsjwt.WithAlgorithm(b.alg))
	}
	builder, err := qsjwt.NewQSEoW(signer, opts...)
	if err != nil {
		return "", refuseSetting, err
	}
	if tok, err = builder.Sign(context.Background(), b.qseow); err != nil {
		return "", refuse, err
	}
	return tok.Raw, accept, nil
}
