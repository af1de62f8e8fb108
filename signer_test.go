package qsjwt

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signerQSEoW is the one place these tests make a builder around a Signer
// of their own (NewQSEoW(signer, ...)).
func signerQSEoW(t *testing.T, s Signer) *QSEoW {
	t.Helper()
	q, err := NewQSEoW(s, WithClock(fixedClock))
	require.NoError(t, err)
	return q
}

var signerUser = QSEoWUser{UserDirectory: "D", UserID: "anna"}

// digestSigner signs digests with key, as an HSM or KMS adapter would.
func digestSigner(key *rsa.PrivateKey) Signer {
	return SignerFunc(key.Public(), func(_ context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
		return rsa.SignPKCS1v15(rand.Reader, key, h, digest)
	})
}

func TestSignerChecksEverySignature(t *testing.T) {
	key := testKey(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	// An opaque signer that signs correctly gives a token that verifies.
	tok, err := signerQSEoW(t, digestSigner(key)).Sign(context.Background(), signerUser)
	require.NoError(t, err)
	verifyStdlib(t, tok.Raw, testCertKey(t))

	for name, tc := range map[string]struct {
		sign func(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error)
		want string
	}{
		"short signature": {func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
			sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, d)
			return sig[1:], err
		}, "255-byte signature"},
		"long signature": {func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
			sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, d)
			return append(sig, 0), err
		}, "257-byte signature"},
		"another key": {func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
			return rsa.SignPKCS1v15(rand.Reader, other, h, d)
		}, "does not verify with the signer's public key"},
		"another hash": {func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
			sum := crypto.SHA512.New()
			sum.Write(d)
			return rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA512, sum.Sum(nil))
		}, "does not verify"},
		"garbage of the right length": {func(context.Context, []byte, crypto.Hash) ([]byte, error) {
			return make([]byte, 256), nil
		}, "does not verify"},
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := signerQSEoW(t, SignerFunc(key.Public(), tc.sign)).Sign(context.Background(), signerUser)
			require.ErrorIs(t, err, ErrSigner)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, tok.Raw)
		})
	}
}

// TestSignerFailureIsErrSigner: the signer's own error is kept and wrapped in
// ErrSigner, with no engine wording around it.
func TestSignerFailureIsErrSigner(t *testing.T) {
	boom := errors.New("kms: key disabled")
	s := SignerFunc(testKey(t).Public(), func(context.Context, []byte, crypto.Hash) ([]byte, error) { return nil, boom })
	_, err := signerQSEoW(t, s).Sign(context.Background(), signerUser)
	require.ErrorIs(t, err, ErrSigner)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, "qsjwt: signer: kms: key disabled", err.Error())
}

// TestClaimProblemsAreNotSignerErrors: what the encoder refuses is a
// *ClaimError, never ErrSigner.
func TestClaimProblemsAreNotSignerErrors(t *testing.T) {
	q := signerQSEoW(t, testSigner(t))
	for name, v := range map[string]any{"nan": math.NaN(), "inf": math.Inf(-1), "bad": "M\xfcller"} {
		u := signerUser
		u.Attributes = map[string]any{"attr": v}
		_, err := q.Sign(context.Background(), u)
		var ce *ClaimError
		require.True(t, errors.As(err, &ce), "%s: %v", name, err)
		assert.NotErrorIs(t, err, ErrSigner, name)
		assert.Equal(t, "attr", ce.Claim, name)
	}
}

// TestSignerCancelledDuringSigning: ctx ends while the signer works; Sign
// returns ctx's error and no token, even though a valid signature came back.
func TestSignerCancelledDuringSigning(t *testing.T) {
	key := testKey(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := SignerFunc(key.Public(), func(_ context.Context, d []byte, h crypto.Hash) ([]byte, error) {
		cancel()
		return rsa.SignPKCS1v15(rand.Reader, key, h, d)
	})
	tok, err := signerQSEoW(t, s).Sign(ctx, signerUser)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrSigner)
	assert.Empty(t, tok.Raw)

	// A ctx that has already ended never reaches the signer.
	called := false
	s = SignerFunc(key.Public(), func(context.Context, []byte, crypto.Hash) ([]byte, error) { called = true; return nil, nil })
	_, err = signerQSEoW(t, s).Sign(ctx, signerUser)
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, called)
}

// messageOnlyKey is a crypto.MessageSigner whose policy allows only
// hash-and-sign (an HSM key limited to CKM_SHA256_RSA_PKCS): Sign with a
// digest fails, as such a key does with CKR_MECHANISM_INVALID.
type messageOnlyKey struct {
	key      *rsa.PrivateKey
	messages int
	rand     io.Reader
}

func (k *messageOnlyKey) Public() crypto.PublicKey { return k.key.Public() }

func (k *messageOnlyKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("CKR_MECHANISM_INVALID")
}

func (k *messageOnlyKey) SignMessage(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.messages++
	k.rand = r
	h := opts.HashFunc().New()
	h.Write(msg)
	return rsa.SignPKCS1v15(r, k.key, opts.HashFunc(), h.Sum(nil))
}

var _ crypto.MessageSigner = (*messageOnlyKey)(nil)

func TestSignerFromCryptoUsesMessageSigner(t *testing.T) {
	k := &messageOnlyKey{key: testKey(t)}
	s, err := SignerFromCrypto(k)
	require.NoError(t, err)
	tok, err := signerQSEoW(t, s).Sign(context.Background(), signerUser)
	require.NoError(t, err)
	verifyStdlib(t, tok.Raw, testCertKey(t))
	assert.Equal(t, 1, k.messages)
	assert.True(t, k.rand == rand.Reader, "the key gets crypto/rand.Reader, not nil")
}

// cryptoMessageAndSigner is one type that is a crypto.MessageSigner and a
// Signer, as a PKCS #11 key is: the builders must hash-and-sign through its
// crypto.MessageSigner method, since its SignDigest is refused.
type cryptoMessageAndSigner struct{ *messageOnlyKey }

func (b cryptoMessageAndSigner) SignDigest(context.Context, []byte, crypto.Hash) ([]byte, error) {
	return nil, errors.New("CKR_MECHANISM_INVALID")
}

func TestSignerThatIsAlsoACryptoMessageSigner(t *testing.T) {
	k := cryptoMessageAndSigner{&messageOnlyKey{key: testKey(t)}}
	var _ crypto.MessageSigner = k
	tok, err := signerQSEoW(t, k).Sign(context.Background(), signerUser)
	require.NoError(t, err)
	verifyStdlib(t, tok.Raw, testCertKey(t))
	assert.Equal(t, 1, k.messages)
	assert.True(t, k.rand == rand.Reader)
}

// randRecorder is an opaque crypto.Signer that records the reader it gets.
type randRecorder struct {
	key  *rsa.PrivateKey
	rand io.Reader
}

func (r *randRecorder) Public() crypto.PublicKey { return r.key.Public() }

func (r *randRecorder) Sign(rd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	r.rand = rd
	return r.key.Sign(rd, digest, opts)
}

func TestSignerFromCryptoPassesRandReader(t *testing.T) {
	r := &randRecorder{key: testKey(t)}
	s, err := SignerFromCrypto(r)
	require.NoError(t, err)
	tok, err := signerQSEoW(t, s).Sign(context.Background(), signerUser)
	require.NoError(t, err)
	verifyStdlib(t, tok.Raw, testCertKey(t))
	assert.True(t, r.rand == rand.Reader, "the key gets crypto/rand.Reader, not nil")
}

// bothSigners is one type that is a crypto.Signer and a qsjwt.Signer, and
// offers SignMessage: the shape of an HSM adapter. Its digest methods fail,
// so a token proves the builder took SignMessage.
type bothSigners struct{ key *rsa.PrivateKey }

func (b bothSigners) Public() crypto.PublicKey { return b.key.Public() }
func (b bothSigners) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("digest signing is not allowed by this key's policy")
}
func (b bothSigners) SignDigest(context.Context, []byte, crypto.Hash) ([]byte, error) {
	return nil, errors.New("digest signing is not allowed by this key's policy")
}
func (b bothSigners) SignMessage(_ context.Context, msg []byte, h crypto.Hash) ([]byte, error) {
	d := h.New()
	d.Write(msg)
	return rsa.SignPKCS1v15(rand.Reader, b.key, h, d.Sum(nil))
}

var (
	_ crypto.Signer = bothSigners{}
	_ Signer        = bothSigners{}
)

func TestSignerWithSignMessage(t *testing.T) {
	tok, err := signerQSEoW(t, bothSigners{testKey(t)}).Sign(context.Background(), signerUser)
	require.NoError(t, err)
	verifyStdlib(t, tok.Raw, testCertKey(t))
}
