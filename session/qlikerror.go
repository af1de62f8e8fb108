package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrQlik is what a [*QlikError] unwraps to: Qlik answered with an error.
var ErrQlik = errors.New("session: Qlik refused the request")

// QlikError is an error answer from Qlik: its HTTP status and the first entry
// of the body Qlik sends with it,
//
//	{"errors":[{"code":"…","title":"…","detail":"…","status":"…"}]}
//
// Sessions return it when logging in or fetching a CSRF token fails;
// [CheckResponse] makes one from any response. Match it with errors.As, or
// errors.Is(err, ErrQlik).
type QlikError struct {
	// Op is what qsjwt was doing: "login", "csrf-token", or "" for a
	// response given to CheckResponse.
	Op string
	// Method and URL are the request's, without its query.
	Method, URL string
	// StatusCode is the HTTP status of Qlik's answer.
	StatusCode int
	// Code, Title and Detail are Qlik's, from the body's first error; Code
	// is empty when the body was not Qlik-shaped, and Detail then holds the
	// start of the body.
	Code, Title, Detail string
	// RetryAfter is how long Qlik asked the client to wait (the header
	// Retry-After, in seconds or as a date), 0 when it did not say.
	RetryAfter time.Duration
}

func (e *QlikError) Error() string {
	var b strings.Builder
	b.WriteString("session: Qlik ")
	if e.Op != "" {
		b.WriteString(e.Op + " ")
	}
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.URL, e.StatusCode)
	for _, s := range []string{e.Code, e.Title, e.Detail} {
		if s != "" {
			b.WriteString(" " + s)
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns ErrQlik.
func (e *QlikError) Unwrap() error { return ErrQlik }

// maxErrorBody is how much of an error body is read.
const maxErrorBody = 64 << 10

// CheckResponse returns nil when resp's status is below 400, else a
// [*QlikError] read from its body. It reads the body and puts back a copy,
// so the caller can still read it; the caller still closes it.
func CheckResponse(resp *http.Response) error {
	if resp.StatusCode < 400 {
		return nil
	}
	return qlikError("", resp, peek(resp))
}

// peek reads at most maxErrorBody bytes of resp's body and puts back a body
// that gives them again, followed by the rest.
func peek(resp *http.Response) []byte {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	return body
}

// readQlikError reads and closes resp's body and returns a *QlikError.
func readQlikError(op string, resp *http.Response) *QlikError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return qlikError(op, resp, body)
}

func qlikError(op string, resp *http.Response, body []byte) *QlikError {
	e := &QlikError{Op: op, StatusCode: resp.StatusCode, RetryAfter: retryAfter(resp)}
	if r := resp.Request; r != nil && r.URL != nil {
		u := *r.URL
		u.RawQuery, u.User = "", nil
		e.Method, e.URL = r.Method, u.String()
		if e.Method == "" {
			e.Method = http.MethodGet
		}
	}
	var shaped struct {
		Errors []struct {
			Code, Title, Detail string
		} `json:"errors"`
	}
	if json.Unmarshal(body, &shaped) == nil && len(shaped.Errors) > 0 {
		first := shaped.Errors[0]
		e.Code, e.Title, e.Detail = first.Code, first.Title, first.Detail
		return e
	}
	e.Title = http.StatusText(resp.StatusCode)
	if d := strings.TrimSpace(string(body)); d != "" {
		if len(d) > 200 {
			d = d[:200] + "…"
		}
		e.Detail = d
	}
	return e
}

// qlikCode returns the code of the first error in a Qlik error body,
// leaving the body readable.
func qlikCode(resp *http.Response) string { return qlikError("", resp, peek(resp)).Code }

// retryAfter reads resp's Retry-After header: delay seconds, or an HTTP date
// taken relative to the response's Date header (else to time.Now).
func retryAfter(resp *http.Response) time.Duration {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(24*time.Hour/time.Second))) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	now := time.Now()
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		now = d
	}
	return min(max(at.Sub(now), 0), 24*time.Hour)
}
