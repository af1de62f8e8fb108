package session

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// EnsureUser returns the Qlik user ID of the user with subject, creating the
// user (POST /api/v1/users, with name and email) when GET
// /api/v1/users?filter=subject eq "…" finds none. Impersonation needs an
// existing user. It calls with the client's own token ([OAuth.Token]), so
// the OAuth client needs the right to manage users. A user created by
// another caller at the same moment is found, not created twice.
func (a *OAuth) EnsureUser(ctx context.Context, subject, name, email string) (string, error) {
	if strings.TrimSpace(subject) == "" || strings.TrimSpace(subject) != subject {
		return "", fmt.Errorf("%w: EnsureUser: the subject is empty or has white space around it", ErrSession)
	}
	for attempt := 0; attempt < 2; attempt++ {
		id, err := a.findUser(ctx, subject)
		if err == nil && id == "" {
			var status int
			if id, status, err = a.createUser(ctx, subject, name, email); status == http.StatusConflict {
				continue
			}
		}
		if err == nil {
			a.userExists(subject, id)
		}
		return id, err
	}
	return "", fmt.Errorf("%w: EnsureUser: the tenant says user %q exists but does not find it", ErrSession, subject)
}

// usersCall sends a users API request with the client's token and decodes
// a 2xx answer into out; it returns the status.
func (a *OAuth) usersCall(ctx context.Context, method, u string, in, out any) (int, error) {
	tok, err := a.Token(ctx)
	if err != nil {
		return 0, err
	}
	var body io.Reader = http.NoBody
	if in != nil {
		js, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Raw)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.transport().RoundTrip(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %s: %w", ErrSession, method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, readQlikError("users", resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("%w: %s %s: the answer is not the JSON expected", ErrSession, method, req.URL.Path)
	}
	return resp.StatusCode, nil
}

func (a *OAuth) findUser(ctx context.Context, subject string) (string, error) {
	var quoted bytes.Buffer
	enc := json.NewEncoder(&quoted)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(subject) // a string always encodes
	q := url.Values{"filter": {"subject eq " + strings.TrimSpace(quoted.String())}}
	var out struct {
		Data []struct {
			ID      string `json:"id"`
			Subject string `json:"subject"`
		} `json:"data"`
	}
	if _, err := a.usersCall(ctx, http.MethodGet, a.tenant.JoinPath("/api/v1/users").String()+"?"+q.Encode(), nil, &out); err != nil {
		return "", err
	}
	for _, u := range out.Data {
		if u.Subject == subject && u.ID != "" {
			return u.ID, nil
		}
	}
	return "", nil
}

func (a *OAuth) createUser(ctx context.Context, subject, name, email string) (string, int, error) {
	in := map[string]string{"subject": subject}
	if name != "" {
		in["name"] = name
	}
	if email != "" {
		in["email"] = email
	}
	var out struct {
		ID string `json:"id"`
	}
	status, err := a.usersCall(ctx, http.MethodPost, a.tenant.JoinPath("/api/v1/users").String(), in, &out)
	if err != nil {
		return "", status, err
	}
	if out.ID == "" {
		return "", status, fmt.Errorf("%w: POST /api/v1/users answered without the user's id", ErrSession)
	}
	return out.ID, status, nil
}

// userExists ends a back-off of impersonating the user that a refusal
// started (the user did not exist yet): the user exists now.
func (a *OAuth) userExists(subject, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, key := range []string{"subject:" + subject, "userId:" + id} {
		if e := a.users[key]; e != nil && e.fetching == nil {
			e.fails, e.notBefore, e.lastErr = 0, time.Time{}, nil
		}
	}
}
