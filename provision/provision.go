// Package provision sets Qlik up for JWT logins and proves that they work:
// a Qlik Cloud JWT identity provider through the tenant's REST API ([Cloud]),
// a client-managed Qlik Sense (QSEoW) virtual proxy with JWT authentication
// through the QRS API ([QRS]), and a doctor that logs in for real and names
// the cause and the fix of every failure ([DoctorCloud], [DoctorQSEoW]).
//
// Setting up is plan → apply: Plan reads what exists and returns the steps
// that would make it right, changing nothing (a dry run prints them); Apply
// makes the changes. Both are idempotent: a second run finds everything in
// place and plans no change.
//
// Admin secrets (the API key, the QRS client key) are never printed: not in
// errors, not by fmt's %v, %+v or %#v of any type here.
package provision

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Actions of a [Step].
const (
	ActionKeep   = "keep"   // already as wanted: nothing to do
	ActionCreate = "create" // a new object
	ActionUpdate = "update" // an existing object is changed
	ActionDelete = "delete" // an object is removed
	ActionLink   = "link"   // a virtual proxy is linked to a proxy service
)

// Step is one thing a [Plan] does, or leaves alone.
type Step struct {
	Action string `json:"action"` // one of the Action constants
	Object string `json:"object"` // e.g. "identity provider", "virtual proxy"
	Name   string `json:"name"`   // which one: a key ID, a prefix, a proxy service
	Detail string `json:"detail,omitempty"`
	Done   bool   `json:"done"` // Apply made the change

	apply func(ctx context.Context) (string, error)
}

// Plan is the list of steps that makes Qlik match a setup. Make one with
// [Cloud.Plan] or [QRS.Plan]. A plan is not safe for concurrent use.
type Plan struct {
	Steps []Step `json:"steps"`
}

// Changes returns the number of steps that change something.
func (p *Plan) Changes() int {
	n := 0
	for _, s := range p.Steps {
		if s.Action != ActionKeep {
			n++
		}
	}
	return n
}

// Apply makes the plan's changes in order and marks each step Done. It stops
// at the first failure, which it returns naming the step; the steps before it
// stay done. Applying a plan twice makes no further change.
func (p *Plan) Apply(ctx context.Context) error {
	for i := range p.Steps {
		s := &p.Steps[i]
		if s.Action == ActionKeep || s.Done || s.apply == nil {
			continue
		}
		detail, err := s.apply(ctx)
		if err != nil {
			return fmt.Errorf("provision: %s %s %q: %w", s.Action, s.Object, s.Name, err)
		}
		if detail != "" {
			s.Detail = detail
		}
		s.Done = true
	}
	return nil
}

// APIError is a refusal from Qlik: the HTTP status and, when the body is
// Qlik's error shape, its first code, title and detail.
type APIError struct {
	Method, Path string
	Status       int
	Code, Title  string
	Detail       string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	for _, s := range []string{e.Code, e.Title, e.Detail} {
		if s != "" {
			msg += " " + s
		}
	}
	return msg
}

// ErrWildcardOrigin is returned for an origin with a wildcard: Qlik's web
// integrations and allow lists take exact origins only.
var ErrWildcardOrigin = errors.New("provision: origins must be exact (scheme://host[:port]); Qlik allows no wildcards")

// caller sends JSON requests and reads JSON answers. auth sets the request's
// credentials; it is the only place they are touched.
type caller struct {
	base   string
	client *http.Client
	auth   func(*http.Request)
}

// maxBody bounds what is read from any answer.
const maxBody = 8 << 20

func (c *caller) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encoding the body: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.auth(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, pathOnly(path), scrubURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, pathOnly(path), err)
	}
	if resp.StatusCode/100 != 2 {
		return apiError(method, pathOnly(path), resp.StatusCode, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, pathOnly(path), err)
		}
	}
	return nil
}

// apiError reads Qlik's error body {"errors":[{code,title,detail}]}.
func apiError(method, path string, status int, data []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var body struct {
		Errors []struct{ Code, Title, Detail string } `json:"errors"`
	}
	if json.Unmarshal(data, &body) == nil && len(body.Errors) > 0 {
		e.Code, e.Title, e.Detail = body.Errors[0].Code, body.Errors[0].Title, body.Errors[0].Detail
	} else if s := strings.TrimSpace(string(data)); s != "" && len(s) < 300 {
		e.Detail = s
	}
	return e
}

// pathOnly drops the query (it may hold an xrfkey) from a path for errors.
func pathOnly(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return p
}

// scrubURLError keeps the cause of a transport error without its URL.
func scrubURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap()
	}
	return err
}

// xrfkey returns 16 random letters and digits, as QRS calls need.
func xrfkey() string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}

// exactOrigin checks that o is scheme://host[:port] with no path and no
// wildcard.
func exactOrigin(o string) error {
	if strings.Contains(o, "*") {
		return fmt.Errorf("%w: %q", ErrWildcardOrigin, o)
	}
	scheme, host, ok := strings.Cut(o, "://")
	if !ok || (scheme != "https" && scheme != "http") || host == "" || strings.ContainsAny(host, "/?#") {
		return fmt.Errorf("provision: origin %q is not scheme://host[:port] (e.g. https://mashup.example.com)", o)
	}
	return nil
}
