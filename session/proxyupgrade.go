package session

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// The engine WebSocket handshake in a user's session (see [Proxy]): the
// session's CSRF token goes in the query (qlik-csrf-token), its cookies in
// the Cookie header, and no Authorization; a handshake refused because the
// session ended (401) or its CSRF token went stale (403 CSRF-TOKEN-2) is
// sent once more in a renewed session.

// upgrade sends the handshake out to the tenant in the session.
func (s *Cloud) upgrade(out *http.Request) (*http.Response, error) {
	ctx := out.Context()
	for attempt := 0; ; attempt++ {
		st, err := s.ensure(ctx, true)
		if err != nil {
			return nil, err
		}
		r2 := out.Clone(ctx)
		q := r2.URL.Query()
		q.Set("qlik-csrf-token", st.csrf)
		r2.URL.RawQuery = q.Encode()
		r2.Header.Del("Cookie")
		r2.Header.Del("Authorization")
		addCookies(r2, st.jar.Cookies(s.tenant))
		resp, err := s.transport().RoundTrip(r2)
		if err != nil {
			return nil, fmt.Errorf("%w: opening the engine WebSocket at %s: %w", ErrSession, s.tenant.Host, err)
		}
		switch {
		case attempt > 0:
		case resp.StatusCode == http.StatusUnauthorized:
			s.gone(st.gen)
			drain(resp)
			continue
		case resp.StatusCode == http.StatusForbidden && qlikCode(resp) == "CSRF-TOKEN-2":
			s.staleCSRF(st.gen, st.csrf)
			drain(resp)
			continue
		}
		return resp, nil
	}
}

// upgrade sends the handshake out through the virtual proxy in the
// session: it reads the CSRF token at GET <proxy>/qps/csrftoken (which
// opens the session when needed) and sends the session cookie and an Origin
// of the server itself.
func (t *QSEoWTransport) upgrade(out *http.Request) (*http.Response, error) {
	ctx := out.Context()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.proxy.JoinPath("qps", "csrftoken").String(), nil)
		if err != nil {
			return nil, err
		}
		resp, err := t.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode/100 != 2 {
			return nil, readQlikError("csrf-token", resp)
		}
		drain(resp)
		csrf := resp.Header.Get("qlik-csrf-token")
		r2 := out.Clone(ctx)
		q := r2.URL.Query()
		q.Set("qlik-csrf-token", csrf)
		r2.URL.RawQuery = q.Encode()
		r2.Header.Del("Cookie")
		r2.Header.Del("Authorization")
		r2.Header.Set("Origin", t.proxy.Scheme+"://"+t.proxy.Host)
		addCookies(r2, t.Cookies())
		if resp, err = t.transport().RoundTrip(r2); err != nil {
			return nil, fmt.Errorf("%w: opening the engine WebSocket at %s: %w", ErrSession, t.proxy.Host, err)
		}
		if attempt == 0 && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			t.sessionGone()
			drain(resp)
			continue
		}
		return resp, nil
	}
}

// sessionGone makes the next request go alone, with the token, to open a
// new session.
func (t *QSEoWTransport) sessionGone() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.until = time.Time{}
	t.gen++
}

// drain reads a little of resp's body and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
}
