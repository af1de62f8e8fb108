package enginetest

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// JWXVerify checks token's signature with jwx's jws.Verify under alg and
// pub, and returns the payload jwx says the signature covers. jwx v2
// rebuilds the signing input from the decoded segments, so it is a second
// opinion on the signature, not on the exact bytes: check those with
// crypto/rsa.
func JWXVerify(token, alg string, pub *rsa.PublicKey) ([]byte, error) {
	return jws.Verify([]byte(token), jws.WithKey(jwa.SignatureAlgorithm(alg), pub))
}

// JWXClaims verifies token with jwx's jwt.Parse under alg and pub (no
// validation of times or audience) and returns the payload jwx read and its
// claims through jwx's own reading, in the types encoding/json gives for the
// same JSON: NumericDates as float64 seconds, and "aud" as a string when the
// token has a string. Comparing the result with json.Unmarshal of the
// payload checks that jwx and the reader under test see the same claims.
func JWXClaims(token, alg string, pub *rsa.PublicKey) (payload []byte, claims map[string]any, err error) {
	tok, err := jwt.Parse([]byte(token), jwt.WithKey(jwa.SignatureAlgorithm(alg), pub), jwt.WithValidate(false))
	if err != nil {
		return nil, nil, fmt.Errorf("jwt.Parse: %w", err)
	}
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		return nil, nil, fmt.Errorf("jws.Parse: %w", err)
	}
	payload = msg.Payload()
	m, err := tok.AsMap(context.Background())
	if err != nil {
		return nil, nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, nil, fmt.Errorf("the payload jwx verified is not a JSON object: %w", err)
	}
	for k, v := range m {
		switch v := v.(type) {
		case time.Time:
			m[k] = float64(v.Unix())
		case []string: // jwx reads "aud" as a list, always
			if s, isString := raw[k].(string); isString && len(v) == 1 && v[0] == s {
				m[k] = s
				continue
			}
			l := make([]any, len(v))
			for i, s := range v {
				l[i] = s
			}
			m[k] = l
		}
	}
	return payload, m, nil
}
