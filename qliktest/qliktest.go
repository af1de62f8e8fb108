// Package qliktest emulates the Qlik Sense endpoints that take a JWT, in
// process and over loopback, the way net/http/httptest emulates a server: a
// Qlik Cloud tenant with a JWT identity provider ([NewCloud]) and a
// client-managed Qlik Sense (QSEoW) virtual proxy with JWT authentication
// ([NewQSEoW]).
//
// Both refuse tokens as docs/qlik-rules.md (Qlik's behaviour, row by row) says
// Qlik does, answer with Qlik-shaped error bodies
//
//	{"errors":[{"code":"…","title":"…","detail":"…","status":"401"}]}
//
// count logins and sessions, and take an injectable clock ([Clock]) so that
// tests move time instead of sleeping. They verify RS256/384/512 signatures
// with crypto/rsa and read claims with encoding/json: this package imports
// no JWT library and shares no code with qsjwt's builders or checker, so
// that each checks the other.
//
// The error codes are illustrative, chosen to look like Qlik's and to tell
// the refusals apart in tests; only CSRF-TOKEN-2 (a stale CSRF token) and the
// detail "Missing required claim: <name>" under INTERNAL-TOKEN-1 are codes
// Qlik is documented to send. Match on HTTP status and code in tests, not on
// title or detail wording.
//
// Servers listen on 127.0.0.1 with TLS by default ([CloudConfig.PlainHTTP],
// [QSEoWConfig.PlainHTTP] turn it off); use the Client method, or its
// Transport, to reach them.
package qliktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock is a settable clock for tests, safe for concurrent use. Give its Now
// method to the emulators (CloudConfig.Now, QSEoWConfig.Now) and to qsjwt's
// builders (qsjwt.WithClock), then Advance it instead of sleeping.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// apiError is one entry of a Qlik error body.
type apiError struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
	Status string `json:"status"`
}

// writeError writes a Qlik-shaped error body.
func writeError(w http.ResponseWriter, status int, code, title, detail string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Errors []apiError `json:"errors"`
	}{[]apiError{{Code: code, Title: title, Detail: detail, Status: strconv.Itoa(status)}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// server is what both emulators share: the loopback server, the clock and
// the key pair of the identity provider or virtual proxy.
type server struct {
	srv *httptest.Server
	// stop ends the engine WebSockets when the server closes: their
	// connections are hijacked, so closing the server does not reach them.
	stop    context.Context
	stopAll context.CancelFunc
	now     func() time.Time
	cert    *x509.Certificate
	pub     *rsa.PublicKey
	key     *rsa.PrivateKey // nil when the caller gave a certificate
}

func (s *server) start(h http.Handler, plain bool) {
	s.stop, s.stopAll = context.WithCancel(context.Background())
	if plain {
		s.srv = httptest.NewServer(h)
	} else {
		s.srv = httptest.NewTLSServer(h)
	}
}

// setup fills in the clock and the key pair: the caller's certificate, or a
// key made for this process and a certificate made for this server.
func (s *server) setup(now func() time.Time, cert *x509.Certificate, cn string) error {
	s.now = now
	if s.now == nil {
		s.now = time.Now
	}
	if cert != nil {
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("qliktest: the certificate holds a %T; Qlik verifies RSA keys only", cert.PublicKey)
		}
		if bits := pub.N.BitLen(); bits < minRSABits {
			return fmt.Errorf("qliktest: the certificate holds a %d-bit RSA key; Qlik needs at least %d bits", bits, minRSABits)
		}
		s.cert, s.pub = cert, pub
		return nil
	}
	key, err := processKey()
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	from := s.now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            pkix.Name{CommonName: cn},
		NotBefore:          from,
		NotAfter:           from.Add(5 * 365 * 24 * time.Hour),
		SignatureAlgorithm: x509.SHA256WithRSA,
		KeyUsage:           x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	s.cert, err = x509.ParseCertificate(der)
	s.key, s.pub = key, &key.PublicKey
	return err
}

var (
	keyOnce sync.Once
	keyVal  *rsa.PrivateKey
	keyErr  error
)

// processKey makes one 2048-bit RSA key per process: making keys is slow, and
// emulators in tests need no more.
func processKey() (*rsa.PrivateKey, error) {
	keyOnce.Do(func() { keyVal, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	return keyVal, keyErr
}

// close shuts the server down and ends its engine WebSockets.
func (s *server) close() {
	s.stopAll()
	s.srv.Close()
}

// serverCertificatePEM returns the TLS certificate of the server in PEM, nil
// over plain http.
func (s *server) serverCertificatePEM() []byte {
	if c := s.srv.Certificate(); c != nil {
		return certificatePEM(c)
	}
	return nil
}

func certificatePEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func keyPEM(k *rsa.PrivateKey) []byte {
	if k == nil {
		return nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// clockTolerance applies the ClockTolerance convention of both configs: 0
// means DefaultClockTolerance, a negative value none. Over
// maxClockTolerance it panics, as Qlik refuses such a clockToleranceSec.
func clockTolerance(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultClockTolerance
	case d < 0:
		return 0
	case d > maxClockTolerance:
		panic(fmt.Sprintf("qliktest: ClockTolerance %v is over %v, the largest clockToleranceSec Qlik accepts", d, maxClockTolerance))
	}
	return d
}

// isJSONNumber reports whether raw is a JSON number.
func isJSONNumber(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

// randomID returns n random bytes, base64url encoded.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// mac signs a cookie value with the server's secret, so that a cookie and its
// ".sig" companion must travel together.
func mac(secret []byte, v string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(v))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// cors answers a cross-origin request from an allowed origin with the CORS
// headers a browser needs for credentials: include. It reports whether a
// preflight was answered.
func cors(w http.ResponseWriter, r *http.Request, origin string) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Expose-Headers", "qlik-csrf-token")
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, qlik-csrf-token, qlik-web-integration-id, X-Qlik-Xrfkey")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// sameOrigin reports whether origin is the server's own.
func sameOrigin(r *http.Request, origin string) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}

// cookieValue returns the value of the named cookie, or "".
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// contains reports whether list holds s.
func contains(list []string, s string) bool { return slices.Contains(list, s) }
