package qsjwt

import (
	"crypto"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeText(t *testing.T) {
	b, err := os.ReadFile("testdata/test-only-cloud-othertool.jwt")
	require.NoError(t, err)
	d, err := Decode(string(b))
	require.NoError(t, err)
	assert.Equal(t, `UNVERIFIED: decoded without a key; the signature was not checked, so anyone could have written these values.
header:
  alg  "RS256"
  kid  "kid-1"
  typ  "JWT"
claims:
  iss             "tenant.eu.qlikcloud.com"
  aud             ["qlik.api/login/jwt-session"]
  sub             "6f1c2a9e-3b7d-4e5f-9a8b-1c2d3e4f5a6b"
  subType         "user"
  name            "Anna Andersson"
  email           "anna@example.com"
  email_verified  "true"
  group           ["Sales"]
  iat             1795953600  (2026-11-29T12:00:00Z)
  exp             1827489600  (2027-11-29T12:00:00Z)
`, d.String())
	assert.Equal(t, map[string]time.Time{"iat": fixedNow, "exp": fixedNow.AddDate(1, 0, 0)}, d.Dates)
	assert.Len(t, d.Signature, 256)
}

func TestDecodeJSON(t *testing.T) {
	claims := `{"sub":"a","iat":1795953600,"nbf":1795953599.5,"exp":1795953900000,"name":"x"}`
	d, err := Decode(forge(`{"alg":"none"}`, claims, nil))
	require.NoError(t, err)
	assert.Empty(t, d.Signature)
	assert.Equal(t, claims, string(d.Claims), "claims exactly as written")
	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.JSONEq(t, `{"unverified":true,"header":{"alg":"none"},"claims":`+claims+`,
		"dates":{"iat":"2026-11-29T12:00:00Z","nbf":"2026-11-29T11:59:59.5Z","exp":"58881-07-06T11:20:00Z"}}`, string(b))
	assert.True(t, strings.HasPrefix(string(b), `{"unverified":true,`), "the mark comes first: %s", b)
}

func TestDecodeShowsNamesAndValuesSafely(t *testing.T) {
	// A name holding a newline or a quote cannot forge a line of the text.
	d, err := Decode(forge(`{"alg":"RS256"}`, `{"userId\nalg":"x","exp":"1795953600","a\"b":null}`, rsaSign(testKey(t), crypto.SHA256)))
	require.NoError(t, err)
	text := d.String()
	assert.Contains(t, text, `  userId\nalg  "x"`)
	assert.Contains(t, text, `  a\"b         null`)
	assert.Contains(t, text, `  exp          "1795953600"`+"\n", "a string is not a NumericDate: no date shown")
	assert.Empty(t, d.Dates)
}

// objectOracle reads text with encoding/json alone: whether it is one JSON
// object, its names in order of first appearance with the last value of
// each (compacted), and the names given again.
func objectOracle(text string) (ok bool, names []string, values map[string]string, dups []string) {
	if !json.Valid([]byte(text)) {
		return false, nil, nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false, nil, nil, nil
	}
	values = map[string]string{}
	for dec.More() {
		tok, _ := dec.Token()
		name := tok.(string)
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return false, nil, nil, nil
		}
		if _, seen := values[name]; seen {
			dups = append(dups, name)
		} else {
			names = append(names, name)
		}
		values[name] = compact(string(raw))
	}
	return true, names, values, dups
}

// checkObject holds parseObject to objectOracle on text.
func checkObject(t *testing.T, text string) {
	t.Helper()
	ok, names, values, dups := objectOracle(text)
	o, err := parseObject(text)
	require.Equal(t, ok, err == nil, "parseObject(%q): %v; encoding/json says ok=%v", text, err, ok)
	if !ok {
		return
	}
	var gotNames []string
	for _, m := range o.members {
		gotNames = append(gotNames, m.name)
		assert.Equal(t, values[m.name], compact(m.raw), "value of %q in %q", m.name, text)
		assert.Equal(t, strings.TrimSpace(m.raw), m.raw, "a raw value has no white space around it")
		var want any
		require.NoError(t, json.Unmarshal([]byte(m.raw), &want))
		if s, isStr := jsonString(m.raw); isStr {
			assert.Equal(t, want, s, "jsonString of %q", m.raw)
		}
		if ss, isArr := jsonStrings(m.raw); isArr {
			var w []string
			assert.NoError(t, json.Unmarshal([]byte(m.raw), &w), "jsonStrings takes only what encoding/json reads as []string: %q", m.raw)
			assert.Equal(t, w, ss)
		}
	}
	assert.Equal(t, names, gotNames, "names of %q", text)
	var gotDups []string
	for _, m := range o.members {
		for range m.times - 1 {
			gotDups = append(gotDups, m.name)
		}
	}
	slices.Sort(dups)
	slices.Sort(gotDups)
	assert.Equal(t, dups, gotDups, "duplicates of %q", text)
	assert.Equal(t, len(dups) > 0, o.dups)
}

// TestParseObjectAgreesWithEncodingJSON: the hand-written reader of the
// verifiers accepts exactly the objects encoding/json accepts, and reads
// the same names, values and duplicates.
func TestParseObjectAgreesWithEncodingJSON(t *testing.T) {
	deep := strings.Repeat("[", 9999) + strings.Repeat("]", 9999)
	for _, text := range []string{
		`{}`, ` { } `, `{"a":1}`, "\t{\"a\" :\n1 ,\"b\":[ 1, {\"c\":null} ],\"d\":\"x\\\"y\"}\r\n",
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a\/b":true,"a/b":false}`, `{"":0,"":1}`,
		`{"n":-0.5e+10}`, `{"n":1E5}`, `{"n":-0}`, `{"n":0.0}`,
		`{"s":"\ud83d\ude00 \u00fc \uD800"}`, "{\"s\":\"M\xfcller\"}", "{\"s\":\"\u2028\u202e\u009b\"}",
		`{"g":["a",null,"b"]}`, `{"g":[]}`, `{"g":["a",1]}`, `{"g":[["a"]]}`,
		`{"x":` + deep + `}`, `{"x":[` + deep + `]}`,
		// refused
		``, ` `, `[]`, `"a"`, `null`, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`, `{"a":1}{}`, `{"a":1} x`,
		`{'a':1}`, `{a:1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":+1}`, `{"a":1e}`, `{"a":-}`, `{"a":0x1}`,
		`{"a":NaN}`, `{"a":tru}`, `{"a":nul}`, `{"a":True}`, "{\"a\":\"\x01\"}", "{\"a\":\"\n\"}", `{"a":"\x"}`,
		`{"a":"\u12"}`, `{"a":"\u12G4"}`, `{"a":"abc}`, `{"a":[1,2}`, `{"a":{"b":1]}`, `{"a":[1 2]}`, `{"a":{"b" 1}}`,
		`{"a":1 "b":2}`, "{\"a\":1}\x00", "\ufeff{}", `{"x":[` + deep + `]]}`,
	} {
		checkObject(t, text)
	}
}

// FuzzParseObject holds the hand-written JSON reader to encoding/json on
// any text.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":[1,{"b":"\u0061"}]}`, `{"g":["a",null]}`, `{"n":-1.5e-3,"s":"\ud800"}`, `{"a":01}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) { checkObject(t, text) })
}
