package pkcs11

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	ck "github.com/miekg/pkcs11"
	"github.com/qsjwt/qsjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The root builders and verifiers are made only here, against today's root
// API (options); the 1.0 API takes the signer and key as parameters.
func newQSEoW(t *testing.T, s qsjwt.Signer, opts ...qsjwt.QSEoWOption) *qsjwt.QSEoW {
	t.Helper()
	q, err := qsjwt.NewQSEoW(s, opts...)
	require.NoError(t, err)
	return q
}

func newCloud(t *testing.T, s qsjwt.Signer) *qsjwt.Cloud {
	t.Helper()
	c, err := qsjwt.NewCloud(s, "tenant.eu.qlikcloud.com", "hsm-1")
	require.NoError(t, err)
	return c
}

func verifyQSEoW(t *testing.T, raw string, pub crypto.PublicKey) *qsjwt.QSEoWClaims {
	t.Helper()
	v, err := qsjwt.NewQSEoWVerifier(pub)
	require.NoError(t, err)
	cl, err := v.Verify(raw)
	require.NoError(t, err, "the qsjwt verifier accepts the token")
	return cl
}

func verifyCloud(t *testing.T, raw string, pub crypto.PublicKey) *qsjwt.CloudClaims {
	t.Helper()
	v, err := qsjwt.NewCloudVerifier(pub, qsjwt.WithIssuer("tenant.eu.qlikcloud.com"), qsjwt.WithKeyID("hsm-1"))
	require.NoError(t, err)
	cl, err := v.Verify(raw)
	require.NoError(t, err, "the qsjwt verifier accepts the token")
	return cl
}

var alice = qsjwt.QSEoWUser{UserDirectory: "CORP", UserID: "alice", Groups: []string{"finance"}}

var anna = qsjwt.CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com", EmailVerified: true}

func openKey(t *testing.T, uri string, opts ...Option) *Key {
	t.Helper()
	k, err := Open(uri, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	return k
}

// signQSEoW signs a QSEoW token with s and checks it with crypto/rsa and the
// qsjwt verifier against the public key pkcs11-tool exports.
func signQSEoW(t *testing.T, s qsjwt.Signer, pub *rsa.PublicKey, opts ...qsjwt.QSEoWOption) {
	t.Helper()
	q := newQSEoW(t, s, opts...)
	tok, err := q.Sign(context.Background(), alice)
	require.NoError(t, err)
	verifyCompact(t, tok.Raw, pub, q.Algorithm().Hash())
	cl := verifyQSEoW(t, tok.Raw, pub)
	assert.Equal(t, "alice", cl.UserID)
	assert.Equal(t, "CORP", cl.UserDirectory)
}

func TestSignQSEoWAndCloud(t *testing.T) {
	h := hsm(t)
	key := openKey(t, h.uri("rsa"))
	pub := h.exportedPublic(t, "01")
	require.True(t, pub.Equal(key.Public()), "Public() is the key pkcs11-tool exports")

	cryptoSigner, err := qsjwt.SignerFromCrypto(key)
	require.NoError(t, err)
	for name, s := range map[string]qsjwt.Signer{"Key.Signer": key.Signer(), "SignerFromCrypto": cryptoSigner} {
		t.Run(name, func(t *testing.T) {
			for _, alg := range []qsjwt.Algorithm{qsjwt.RS256, qsjwt.RS384, qsjwt.RS512} {
				signQSEoW(t, s, pub, qsjwt.WithAlgorithm(alg))
			}
			c := newCloud(t, s)
			tok, err := c.Sign(context.Background(), anna)
			require.NoError(t, err)
			verifyCompact(t, tok.Raw, pub, crypto.SHA256)
			cl := verifyCloud(t, tok.Raw, pub)
			assert.Equal(t, "anna-42", cl.Subject)
		})
	}
}

func TestCryptoSignerAndMessageSigner(t *testing.T) {
	h := hsm(t)
	key := openKey(t, h.uri("rsa"))
	pub := h.exportedPublic(t, "01")
	msg := []byte("header.payload")
	for _, hash := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		d := hash.New()
		d.Write(msg)
		digest := d.Sum(nil)
		sig, err := key.Sign(rand.Reader, digest, hash)
		require.NoError(t, err)
		require.NoError(t, rsa.VerifyPKCS1v15(pub, hash, digest, sig), "raw CKM_RSA_PKCS with %v", hash)
		sig, err = key.SignMessage(rand.Reader, msg, hash)
		require.NoError(t, err)
		require.NoError(t, rsa.VerifyPKCS1v15(pub, hash, digest, sig), "hash-and-sign with %v", hash)
	}
	_, err := key.Sign(rand.Reader, make([]byte, 20), crypto.SHA1)
	assert.ErrorContains(t, err, "not supported")
	_, err = key.Sign(rand.Reader, make([]byte, 31), crypto.SHA256)
	assert.ErrorContains(t, err, "31 bytes")
	_, err = key.SignMessage(rand.Reader, msg, &rsa.PSSOptions{Hash: crypto.SHA256})
	assert.ErrorContains(t, err, "PSS")
	_, err = key.Sign(rand.Reader, make([]byte, 32), &rsa.PSSOptions{Hash: crypto.SHA256})
	assert.ErrorContains(t, err, "PSS")
}

// The token restarts under the signer in three ways; each time the next
// token is signed by the same key, found again.
func TestRecoversAfterTokenRestart(t *testing.T) {
	h := hsm(t)
	key := openKey(t, h.uri("rsa"))
	pub := h.exportedPublic(t, "01")
	s := key.Signer()
	signQSEoW(t, s, pub)

	other := h.otherApp(t)
	slot := h.slot(t, other)

	t.Run("all sessions closed", func(t *testing.T) {
		signQSEoW(t, s, pub)                             // working before the restart
		require.NoError(t, other.CloseAllSessions(slot)) // also logs the application out
		signQSEoW(t, s, pub)
	})
	t.Run("logged out", func(t *testing.T) {
		signQSEoW(t, s, pub) // working before the restart
		sess, err := other.OpenSession(slot, ck.CKF_SERIAL_SESSION)
		require.NoError(t, err)
		require.NoError(t, other.Logout(sess)) // the login is the application's: every session loses it
		require.NoError(t, other.CloseSession(sess))
		signQSEoW(t, s, pub)
	})
	t.Run("module finalised and initialised", func(t *testing.T) {
		signQSEoW(t, s, pub)                 // working before the restart
		require.NoError(t, other.Finalize()) // every session and handle of the process is gone
		signQSEoW(t, s, pub)
	})
	t.Run("many at once after a restart", func(t *testing.T) {
		signQSEoW(t, s, pub) // working before the restart
		require.NoError(t, other.CloseAllSessions(slot))
		q := newQSEoW(t, s)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		toks := make(chan string, 16)
		for range 16 {
			wg.Go(func() {
				tok, err := q.Sign(context.Background(), alice)
				errs <- err
				toks <- tok.Raw
			})
		}
		wg.Wait()
		close(errs)
		close(toks)
		for err := range errs {
			require.NoError(t, err)
		}
		for raw := range toks {
			verifyCompact(t, raw, pub, crypto.SHA256)
		}
	})
}

// When the label finds another key after a restart, the signer refuses.
func TestRefusesReplacedKey(t *testing.T) {
	h := hsm(t)
	key := openKey(t, h.uri("swap"))
	pub := h.exportedPublic(t, "05")
	signQSEoW(t, key.Signer(), pub)

	require.NoError(t, h.tool("--delete-object", "--type", "privkey", "--id", "05"))
	require.NoError(t, h.tool("--delete-object", "--type", "pubkey", "--id", "05"))
	require.NoError(t, h.tool("--keypairgen", "--usage-sign", "--key-type", "rsa:2048", "--label", "swap", "--id", "05"))
	require.NoError(t, h.otherApp(t).Finalize()) // the restart makes the signer look again

	_, err := newQSEoW(t, key.Signer()).Sign(context.Background(), alice)
	require.ErrorIs(t, err, ErrKeyChanged)
	assert.Contains(t, err.Error(), "object=swap")
}

func TestWrongPINNeverEchoed(t *testing.T) {
	h := hsm(t)
	wrong := "wr0ng-" + h.pin[2:8]
	_, err := Open("pkcs11:token=" + tokenLabel + ";object=rsa?module-path=" + h.module + "&pin-value=" + wrong)
	require.ErrorIs(t, err, ErrPIN)
	assert.Contains(t, err.Error(), "CKR_PIN_INCORRECT")
	t.Setenv("QSJWT_TEST_PIN", wrong)
	_, err2 := Open("pkcs11:token="+tokenLabel+";object=rsa?module-path="+h.module, WithPINEnv("QSJWT_TEST_PIN"))
	require.ErrorIs(t, err2, ErrPIN)
	for _, e := range []error{err, err2} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, e)
			assert.NotContains(t, out, wrong, verb)
			assert.NotContains(t, out, h.pin, verb)
		}
	}

	// The right PIN, in each of the ways it can be given, opens the key.
	for name, open := range map[string]func() (*Key, error){
		"pin-source path": func() (*Key, error) { return Open(h.uri("rsa")) },
		"pin-source file URI": func() (*Key, error) {
			return Open("pkcs11:token=" + tokenLabel + ";object=rsa?module-path=" + h.module + "&pin-source=file://" + h.pinFile)
		},
		"pin-value": func() (*Key, error) {
			return Open("pkcs11:token=" + tokenLabel + ";object=rsa?module-path=" + h.module + "&pin-value=" + h.pin)
		},
		"WithPINEnv": func() (*Key, error) {
			t.Setenv("QSJWT_TEST_PIN", h.pin)
			return Open("pkcs11:token="+tokenLabel+";object=rsa", WithModulePath(h.module), WithPINEnv("QSJWT_TEST_PIN"))
		},
		"WithPIN": func() (*Key, error) {
			return Open("pkcs11:token="+tokenLabel+";id=%01", WithModulePath(h.module), WithPIN(h.pin))
		},
	} {
		k, err := open()
		require.NoError(t, err, name)
		require.NoError(t, k.Close())
	}
}

func TestPINProblems(t *testing.T) {
	h := hsm(t)
	base := "pkcs11:token=" + tokenLabel + ";object=rsa?module-path=" + h.module
	_, err := Open(base+"&pin-value="+h.pin, WithPINEnv("X"))
	require.ErrorIs(t, err, ErrPIN)
	assert.Contains(t, err.Error(), "pin-value and WithPINEnv")
	assert.NotContains(t, err.Error(), h.pin)

	_, err = Open(base, WithPINEnv("QSJWT_TEST_UNSET_PIN"))
	require.ErrorIs(t, err, ErrPIN)
	assert.Contains(t, err.Error(), "QSJWT_TEST_UNSET_PIN")

	_, err = Open(base + "&pin-source=" + h.dir + "/no-such-pin")
	require.ErrorIs(t, err, ErrPIN)

	_, err = Open(base) // no PIN: the private key is invisible
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "no PIN was given")
}

func TestKeyTypeAdviceFitsHSM(t *testing.T) {
	h := hsm(t)
	for label, what := range map[string]string{"ec": "an ECDSA key (P-256)", "small": "an RSA-1024 key"} {
		_, err := Open(h.uri(label))
		require.ErrorIs(t, err, qsjwt.ErrKey, label)
		assert.Contains(t, err.Error(), what)
		assert.Contains(t, err.Error(), "create an RSA key of at least 2048 bits in the HSM")
		assert.Contains(t, err.Error(), "QSEoW")
		assert.NotContains(t, err.Error(), "keygen", "no advice to make a key outside the HSM")
	}
}

// A key whose CKA_ALLOWED_MECHANISMS allow only hash-and-sign refuses raw
// RSA and signs through SignMessage.
func TestHashAndSignOnlyKey(t *testing.T) {
	h := hsm(t)
	key := openKey(t, h.uri("restricted"))
	pub := h.exportedPublic(t, "03")

	digest := make([]byte, 32)
	_, err := key.SignDigest(context.Background(), digest, crypto.SHA256)
	require.Error(t, err, "SoftHSM enforces CKA_ALLOWED_MECHANISMS")
	assert.Contains(t, err.Error(), "SignMessage")

	// A JWT signed through the qsjwt.Signer's SignMessage, built here by hand,
	// passes crypto/rsa and the qsjwt verifier.
	ms, ok := key.Signer().(interface {
		SignMessage(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error)
	})
	require.True(t, ok)
	now := time.Now().Unix()
	claims, err := json.Marshal(map[string]any{"userId": "alice", "userDirectory": "CORP", "iat": now, "exp": now + 3600})
	require.NoError(t, err)
	input := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sig, err := ms.SignMessage(context.Background(), []byte(input), crypto.SHA256)
	require.NoError(t, err)
	raw := input + "." + base64.RawURLEncoding.EncodeToString(sig)
	verifyCompact(t, raw, pub, crypto.SHA256)
	assert.Equal(t, "alice", verifyQSEoW(t, raw, pub).UserID)

	// The root builder hands the signing input to SignMessage (issue 11.3),
	// so a hash-and-sign-only key signs through it too.
	signQSEoW(t, key.Signer(), pub)
}

func TestNothingPrintsThePIN(t *testing.T) {
	h := hsm(t)
	key := openKey(t, "pkcs11:token="+tokenLabel+";object=rsa?module-path="+h.module+"&pin-value="+h.pin)
	u, err := ParseURI("pkcs11:token=" + tokenLabel + ";object=rsa?module-path=" + h.module + "&pin-value=" + h.pin)
	require.NoError(t, err)
	for _, v := range []any{key, key.Signer(), u, *u, WithPIN(h.pin), qsjwt.SignerWithDeadline(key.Signer())} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, h.pin, "%s of %T", verb, v)
		}
	}
	assert.Equal(t, "pkcs11.Key(RSA-2048 pkcs11:token=qsjwt-test;object=rsa?module-path="+h.module+")", fmt.Sprint(key))
}

func TestCloseAndCtx(t *testing.T) {
	h := hsm(t)
	key, err := Open(h.uri("rsa"), WithMaxSessions(1))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = key.SignDigest(ctx, make([]byte, 32), crypto.SHA256)
	require.ErrorIs(t, err, context.Canceled)

	require.NoError(t, key.Close())
	require.NoError(t, key.Close())
	_, err = key.SignDigest(context.Background(), make([]byte, 32), crypto.SHA256)
	require.ErrorIs(t, err, ErrClosed)
}

func TestNotFound(t *testing.T) {
	h := hsm(t)
	_, err := Open("pkcs11:token=no-such-token;object=rsa?module-path=" + h.module + "&pin-source=" + h.pinFile)
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), `"qsjwt-test"`, "lists the tokens present")
	_, err = Open(h.uri("no-such-key"))
	require.ErrorIs(t, err, ErrNotFound)
	_, err = Open("pkcs11:token=" + tokenLabel + "?module-path=" + h.module + "&pin-source=" + h.pinFile)
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "add object=LABEL")
	_, err = Open("pkcs11:token=" + tokenLabel + ";object=rsa?module-path=/nonexistent/lib.so&pin-source=" + h.pinFile)
	require.ErrorIs(t, err, ErrModule)
	assert.True(t, strings.Contains(err.Error(), "module-path"))
}

// qsjwt.SignerWithDeadline keeps the hash-and-sign upgrade of Key.Signer.
func TestWithDeadlineWrapper(t *testing.T) {
	h := hsm(t)
	key := openKey(t, h.uri("rsa"))
	pub := h.exportedPublic(t, "01")
	s := qsjwt.SignerWithDeadline(key.Signer())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := newQSEoW(t, s).Sign(ctx, alice)
	require.NoError(t, err)
	verifyCompact(t, tok.Raw, pub, crypto.SHA256)

	ms, ok := s.(interface {
		SignMessage(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error)
	})
	require.True(t, ok)
	sig, err := ms.SignMessage(ctx, []byte("a.b"), crypto.SHA512)
	require.NoError(t, err)
	d := crypto.SHA512.New()
	d.Write([]byte("a.b"))
	require.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA512, d.Sum(nil), sig))
}
