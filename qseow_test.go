package qsjwt

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestQSEoW(t *testing.T, opts ...QSEoWOption) *QSEoW {
	t.Helper()
	q, err := NewQSEoW(testSigner(t), append([]QSEoWOption{WithClock(fixedClock)}, opts...)...)
	require.NoError(t, err)
	return q
}

func TestQSEoWSignDefaults(t *testing.T) {
	q := newTestQSEoW(t)
	tok, err := q.Sign(context.Background(), QSEoWUser{UserDirectory: "GRUSGRUS", UserID: "anna", Name: "Anna Andersson",
		Email: "anna@example.com", Groups: []string{"g1", "group 2"}})
	require.NoError(t, err)
	d := verifyStdlib(t, tok.Raw, testCertKey(t))

	assert.Equal(t, `"RS256"`, string(d.header["alg"]))
	assert.Equal(t, `"JWT"`, string(d.header["typ"]))
	assert.NotContains(t, d.header, "kid")
	assert.Equal(t, `"anna"`, d.str("userId"))
	assert.Equal(t, `"GRUSGRUS"`, d.str("userDirectory"))
	assert.Equal(t, `"Anna Andersson"`, d.str("name"))
	assert.Equal(t, `"anna@example.com"`, d.str("email"))
	assert.Equal(t, `["g1","group 2"]`, d.str("group"))
	assert.NotContains(t, d.claims, "aud", "no audience unless WithAudience")
	assert.NotContains(t, d.claims, "nbf")
	assert.Equal(t, "1795953600", d.str("iat"))
	assert.Equal(t, "1795957200", d.str("exp"), "default lifetime one hour")
	assert.Len(t, d.claims, 7)
	assert.Equal(t, fixedNow, tok.IssuedAt)
	assert.Equal(t, fixedNow.Add(time.Hour), tok.ExpiresAt)
}

func TestQSEoWSignOptions(t *testing.T) {
	for _, alg := range []Algorithm{RS256, RS384, RS512} {
		t.Run(string(alg), func(t *testing.T) {
			q := newTestQSEoW(t, WithAlgorithm(alg), WithAudience("hdJh34wkK"), WithTTL(90*time.Second),
				WithUserIDClaim("user"), WithUserDirectoryClaim("directory"), WithGroupsClaim("roles"))
			tok, err := q.Sign(context.Background(), QSEoWUser{UserDirectory: "D", UserID: "u", Groups: []string{"a"},
				Attributes: map[string]any{"department": "sales", "admin": true, "level": 3, "tags": []string{"x"}}})
			require.NoError(t, err)
			d := verifyStdlib(t, tok.Raw, testCertKey(t))
			assert.Equal(t, `"`+string(alg)+`"`, string(d.header["alg"]))
			assert.Equal(t, `"hdJh34wkK"`, d.str("aud"), "aud is a plain string")
			assert.Equal(t, `"u"`, d.str("user"))
			assert.Equal(t, `"D"`, d.str("directory"))
			assert.Equal(t, `["a"]`, d.str("roles"))
			assert.Equal(t, `"sales"`, d.str("department"))
			assert.Equal(t, `true`, d.str("admin"))
			assert.Equal(t, `3`, d.str("level"))
			assert.Equal(t, `["x"]`, d.str("tags"))
			assert.Equal(t, "1795953690", d.str("exp"))
			assert.NotContains(t, d.claims, "userId")
			assert.NotContains(t, d.claims, "name", "empty name is left out")
		})
	}
}

func TestQSEoWClaimRules(t *testing.T) {
	ok := QSEoWUser{UserDirectory: "DIR", UserID: "anna"}
	cases := []struct {
		name    string
		change  func(u *QSEoWUser)
		claim   string
		field   string
		want    error
		options []QSEoWOption
	}{
		{"empty user ID", func(u *QSEoWUser) { u.UserID = "" }, "userId", "QSEoWUser.UserID", errMissingClaim, nil},
		{"empty directory", func(u *QSEoWUser) { u.UserDirectory = "" }, "userDirectory", "QSEoWUser.UserDirectory", errMissingClaim, nil},
		{"blank user ID", func(u *QSEoWUser) { u.UserID = "  " }, "userId", "QSEoWUser.UserID", errInvalidClaim, nil},
		{"space around directory", func(u *QSEoWUser) { u.UserDirectory = "DIR " }, "userDirectory", "QSEoWUser.UserDirectory", errInvalidClaim, nil},
		{"backslash in user ID", func(u *QSEoWUser) { u.UserID = `DIR\anna` }, "userId", "QSEoWUser.UserID", errInvalidClaim, nil},
		{"backslash in directory", func(u *QSEoWUser) { u.UserDirectory = `A\B` }, "userDirectory", "QSEoWUser.UserDirectory", errInvalidClaim, nil},
		{"renamed claim in error", func(u *QSEoWUser) { u.UserID = "" }, "user", "QSEoWUser.UserID", errMissingClaim, []QSEoWOption{WithUserIDClaim("user")}},
		{"empty group", func(u *QSEoWUser) { u.Groups = []string{"a", " "} }, "group", "QSEoWUser.Groups[1]", errInvalidClaim, nil},
		{"attribute overwrites user ID", func(u *QSEoWUser) { u.Attributes = map[string]any{"userId": "eve"} }, "userId", `QSEoWUser.Attributes["userId"]`, errInvalidClaim, nil},
		{"attribute overwrites group", func(u *QSEoWUser) { u.Attributes = map[string]any{"group": "x"} }, "group", `QSEoWUser.Attributes["group"]`, errInvalidClaim, nil},
		{"attribute overwrites name", func(u *QSEoWUser) { u.Name = "A"; u.Attributes = map[string]any{"name": "B"} }, "name", `QSEoWUser.Attributes["name"]`, errInvalidClaim, nil},
		{"attribute overwrites aud", func(u *QSEoWUser) { u.Attributes = map[string]any{"aud": "x"} }, "aud", `QSEoWUser.Attributes["aud"]`, errInvalidClaim, nil},
		{"attribute is exp", func(u *QSEoWUser) { u.Attributes = map[string]any{"exp": 1} }, "exp", `QSEoWUser.Attributes["exp"]`, errInvalidClaim, nil},
		{"attribute name empty", func(u *QSEoWUser) { u.Attributes = map[string]any{"": "x"} }, "", `QSEoWUser.Attributes[""]`, errInvalidClaim, nil},
		{"attribute name smuggles a claim", func(u *QSEoWUser) { u.Attributes = map[string]any{`x":"1","userId`: "admin"} }, `x":"1","userId`, `QSEoWUser.Attributes["x\":\"1\",\"userId"]`, errInvalidClaim, nil},
		{"attribute name with newline", func(u *QSEoWUser) { u.Attributes = map[string]any{"a\nb": "x"} }, "a\nb", `QSEoWUser.Attributes["a\nb"]`, errInvalidClaim, nil},
		{"attribute nil", func(u *QSEoWUser) { u.Attributes = map[string]any{"dept": nil} }, "dept", `QSEoWUser.Attributes["dept"]`, errInvalidClaim, nil},
		{"attribute map value", func(u *QSEoWUser) { u.Attributes = map[string]any{"dept": map[string]string{}} }, "dept", `QSEoWUser.Attributes["dept"]`, errInvalidClaim, nil},
		{"user ID claim is email and email given", func(u *QSEoWUser) { u.Email = "a@b" }, "email", "QSEoWUser.Email", errInvalidClaim, []QSEoWOption{WithUserIDClaim("email")}},
		{"attribute NaN", func(u *QSEoWUser) { u.Attributes = map[string]any{"score": math.NaN()} }, "score", `QSEoWUser.Attributes["score"]`, errInvalidClaim, nil},
		{"attribute +Inf", func(u *QSEoWUser) { u.Attributes = map[string]any{"score": math.Inf(1)} }, "score", `QSEoWUser.Attributes["score"]`, errInvalidClaim, nil},
		{"attribute -Inf float32", func(u *QSEoWUser) { u.Attributes = map[string]any{"score": float32(math.Inf(-1))} }, "score", `QSEoWUser.Attributes["score"]`, errInvalidClaim, nil},
		{"user ID not UTF-8", func(u *QSEoWUser) { u.UserID = "M\xfcller" }, "userId", "QSEoWUser.UserID", errInvalidClaim, nil},
		{"directory not UTF-8", func(u *QSEoWUser) { u.UserDirectory = "D\xff" }, "userDirectory", "QSEoWUser.UserDirectory", errInvalidClaim, nil},
		{"name not UTF-8", func(u *QSEoWUser) { u.Name = "M\xf6ller" }, "name", "QSEoWUser.Name", errInvalidClaim, nil},
		{"email not UTF-8", func(u *QSEoWUser) { u.Email = "m\xfc@example.com" }, "email", "QSEoWUser.Email", errInvalidClaim, nil},
		{"group not UTF-8", func(u *QSEoWUser) { u.Groups = []string{"ok", "gr\xfcppe"} }, "group", "QSEoWUser.Groups[1]", errInvalidClaim, nil},
		{"attribute name not UTF-8", func(u *QSEoWUser) { u.Attributes = map[string]any{"dept\xfc": "x"} }, "(not UTF-8)", "QSEoWUser.Attributes[(not UTF-8)]", errInvalidClaim, nil},
		{"attribute value not UTF-8", func(u *QSEoWUser) { u.Attributes = map[string]any{"dept": "M\xfcnchen"} }, "dept", `QSEoWUser.Attributes["dept"]`, errInvalidClaim, nil},
		{"attribute list not UTF-8", func(u *QSEoWUser) { u.Attributes = map[string]any{"tags": []string{"a", "\xff"}} }, "tags", `QSEoWUser.Attributes["tags"]`, errInvalidClaim, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := newTestQSEoW(t, tc.options...)
			u := ok
			tc.change(&u)
			tok, err := q.Sign(context.Background(), u)
			require.Error(t, err)
			assert.Empty(t, tok.Raw)
			assert.ErrorIs(t, err, tc.want)
			assert.NotErrorIs(t, err, ErrSigner, "a claim problem is not the signer's")
			assert.True(t, utf8.ValidString(err.Error()), "the error repeats no invalid bytes")
			var ce *ClaimError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.claim, ce.Claim)
			assert.Equal(t, tc.field, ce.Field)
			assert.Contains(t, err.Error(), tc.field, "the error names the field that fixes it")
		})
	}
	// The unchanged user signs: the table's failures come from the changes.
	_, err := newTestQSEoW(t).Sign(context.Background(), ok)
	require.NoError(t, err)
}

func TestNewQSEoWOptionErrors(t *testing.T) {
	s := testSigner(t)
	small := SignerFunc(smallKey(t).Public(), nil)
	cases := []struct {
		name    string
		signer  Signer
		opts    []QSEoWOption
		options []string // every option named in the error
	}{
		{"nil signer", nil, nil, []string{"signer"}},
		{"1024-bit signer", small, nil, []string{"signer"}},
		{"ttl of 292 years", s, []QSEoWOption{WithTTL(math.MaxInt64)}, []string{"WithTTL"}},
		{"ttl over ten years", s, []QSEoWOption{WithTTL(maxQSEoWTTL + time.Second)}, []string{"WithTTL"}},
		{"audience not UTF-8", s, []QSEoWOption{WithAudience("qlik-\xff")}, []string{"WithAudience"}},
		{"claim name not UTF-8", s, []QSEoWOption{WithUserIDClaim("user\xfc")}, []string{"WithUserIDClaim"}},
		{"HS256", s, []QSEoWOption{WithAlgorithm("HS256")}, []string{"WithAlgorithm"}},
		{"none", s, []QSEoWOption{WithAlgorithm("none")}, []string{"WithAlgorithm"}},
		{"registered claim", s, []QSEoWOption{WithUserIDClaim("sub")}, []string{"WithUserIDClaim"}},
		{"empty claim", s, []QSEoWOption{WithUserDirectoryClaim("")}, []string{"WithUserDirectoryClaim"}},
		{"same claims", s, []QSEoWOption{WithUserIDClaim("u"), WithUserDirectoryClaim("u")}, []string{"WithUserDirectoryClaim"}},
		{"groups claim is user ID", s, []QSEoWOption{WithGroupsClaim("userId")}, []string{"WithGroupsClaim"}},
		{"blank audience", s, []QSEoWOption{WithAudience(" ")}, []string{"WithAudience"}},
		{"zero ttl", s, []QSEoWOption{WithTTL(0)}, []string{"WithTTL"}},
		{"negative ttl", s, []QSEoWOption{WithTTL(-time.Hour)}, []string{"WithTTL"}},
		{"nil clock", s, []QSEoWOption{WithClock(nil)}, []string{"WithClock"}},
		{"every problem at once", nil, []QSEoWOption{WithAlgorithm("HS256"), WithTTL(-1), WithAudience(""), WithUserIDClaim("iat")},
			[]string{"signer", "WithAlgorithm", "WithTTL", "WithAudience", "WithUserIDClaim"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := NewQSEoW(tc.signer, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, q)
			assert.ErrorIs(t, err, errInvalidOption)
			for _, o := range tc.options {
				assert.Contains(t, err.Error(), o)
				assert.True(t, hasOption(unjoin(err), o), "an *OptionError names %s", o)
			}
			assert.Len(t, unjoin(err), len(tc.options), "one error per problem: %v", err)
		})
	}
}

// unjoin returns the errors joined in err.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestQSEoWSignerFailure(t *testing.T) {
	boom := errors.New("hsm offline")
	s := SignerFunc(testKey(t).Public(), func(context.Context, []byte, crypto.Hash) ([]byte, error) { return nil, boom })
	q, err := NewQSEoW(s, WithClock(fixedClock))
	require.NoError(t, err)
	_, err = q.Sign(context.Background(), QSEoWUser{UserDirectory: "D", UserID: "u"})
	assert.ErrorIs(t, err, ErrSigner)
	assert.ErrorIs(t, err, boom)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = newTestQSEoW(t).Sign(ctx, QSEoWUser{UserDirectory: "D", UserID: "u"})
	assert.ErrorIs(t, err, context.Canceled)
}

// TestQSEoWSignReportsEveryClaimProblem gives a user with five problems:
// Sign names all of them at once, in one joined error.
func TestQSEoWSignReportsEveryClaimProblem(t *testing.T) {
	_, err := newTestQSEoW(t).Sign(context.Background(), QSEoWUser{UserID: "", UserDirectory: "D\\x",
		Groups: []string{" "}, Attributes: map[string]any{"exp": 1, "score": math.NaN()}})
	require.Error(t, err)
	var fields []string
	for _, e := range unjoin(err) {
		var ce *ClaimError
		require.ErrorAs(t, e, &ce)
		fields = append(fields, ce.Field)
	}
	assert.Equal(t, []string{"QSEoWUser.UserID", "QSEoWUser.UserDirectory", "QSEoWUser.Groups[0]",
		`QSEoWUser.Attributes["exp"]`, `QSEoWUser.Attributes["score"]`}, fields)
}

// TestBuilderKeyErrorKeepsCause hands each builder a 1024-bit key: the
// error is an *OptionError naming the signer, and matches ErrKey.
func TestBuilderKeyErrorKeepsCause(t *testing.T) {
	small := SignerFunc(smallKey(t).Public(), nil)
	_, qerr := NewQSEoW(small)
	_, cerr := NewCloud(small, "iss", "kid")
	for _, err := range []error{qerr, cerr} {
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrKey)
		assert.ErrorIs(t, err, errInvalidOption)
		var oe *OptionError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "signer", oe.Option)
		assert.Contains(t, err.Error(), "1024 bits")
	}
}

// TestBuildersIgnoreNilOptions: a nil option is ignored by every
// constructor (the verifiers' side is in TestNewVerifierOptionErrors).
func TestBuildersIgnoreNilOptions(t *testing.T) {
	q, err := NewQSEoW(testSigner(t), nil, WithAudience("a"), nil)
	require.NoError(t, err)
	assert.Equal(t, "a", q.cfg.audience)
	_, err = NewCloud(testSigner(t), "iss", "kid", nil)
	require.NoError(t, err)
}

// TestBuilderTimesCannotOverflow signs with clocks and lifetimes whose
// times a token cannot carry: each is refused with the option to fix,
// never signed with a wrapped date.
func TestBuilderTimesCannotOverflow(t *testing.T) {
	user := QSEoWUser{UserDirectory: "D", UserID: "u"}
	farFuture := func() time.Time { return time.Unix(1<<62, 0) }
	endOf9999 := func() time.Time { return time.Date(9999, 12, 31, 23, 58, 0, 0, time.UTC) }
	before1970 := func() time.Time { return time.Date(1969, 12, 31, 23, 59, 58, 0, time.UTC) }
	for _, tc := range []struct {
		name   string
		clock  func() time.Time
		option string
	}{
		{"clock at 2^62 seconds", farFuture, "WithClock"},
		{"clock before 1970", before1970, "WithClock"},
		{"exp after year 9999", endOf9999, "WithTTL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := NewQSEoW(testSigner(t), WithClock(tc.clock))
			require.NoError(t, err)
			tok, err := q.Sign(context.Background(), user)
			assert.Empty(t, tok.Raw)
			var oe *OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tc.option, oe.Option)
			c, err := NewCloud(testSigner(t), "iss", "kid", WithClock(tc.clock))
			require.NoError(t, err)
			tok, err = c.Sign(context.Background(), anna)
			assert.Empty(t, tok.Raw)
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tc.option, oe.Option)
		})
	}
	t.Run("nbf before 1970", func(t *testing.T) {
		c, err := NewCloud(testSigner(t), "iss", "kid", WithClock(func() time.Time { return time.Unix(2, 0) }))
		require.NoError(t, err)
		_, err = c.Sign(context.Background(), anna)
		var oe *OptionError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "WithNotBeforeSkew", oe.Option)
	})
	t.Run("the longest QSEoW lifetime signs", func(t *testing.T) {
		q, err := NewQSEoW(testSigner(t), WithClock(fixedClock), WithTTL(maxQSEoWTTL))
		require.NoError(t, err)
		tok, err := q.Sign(context.Background(), user)
		require.NoError(t, err)
		d := verifyStdlib(t, tok.Raw, testCertKey(t))
		assert.Equal(t, fmt.Sprint(fixedNow.Unix()+int64(maxQSEoWTTL/time.Second)), d.str("exp"))
	})
}
