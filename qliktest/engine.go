package qliktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

// The engine's JSON-RPC error codes the emulator sends: JSON-RPC 2.0's own,
// and the engine's LOCERR_* codes (the numbers are those of the QIX schema
// shipped with enigma.js and @qlik/api, NxLocalizedErrorCode).
const (
	rpcInvalidRequest = -32600 // LOCERR_JSON_RPC_INVALID_REQUEST
	rpcMethodNotFound = -32601 // LOCERR_JSON_RPC_METHOD_NOT_FOUND
	rpcInvalidParams  = -32602 // LOCERR_JSON_RPC_INVALID_PARAMETERS
	rpcParseError     = -32700 // LOCERR_JSON_RPC_PARSE_ERROR
	locerrAppNotFound = 1003   // LOCERR_APP_NOT_FOUND
	locerrAppOpen     = 1002   // LOCERR_APP_ALREADY_OPEN
	locerrAppNotOpen  = 1017   // LOCERR_APP_NOT_OPEN
	locerrNotFound    = 2      // LOCERR_GENERIC_NOT_FOUND
	globalHandle      = -1
	docHandle         = 1
	engineReadLimit   = 1 << 20
)

// engineUser is who the engine session belongs to.
type engineUser struct {
	// authenticated is GetAuthenticatedUser's answer.
	authenticated string
	// qseow is QSEoW's OnAuthenticationInformation, nil on Qlik Cloud.
	qseow map[string]any
}

// engineConn is one engine WebSocket: the JSON-RPC a client makes to open
// an app and read it, answered for the sample app (engine_app.go).
type engineConn struct {
	conn  *websocket.Conn
	appID string // from the URL
	user  engineUser

	docOpen bool
	objects map[int]*engineObject // handles of objects other than Global and Doc
	next    int                   // the next handle
	delta   map[string][]byte     // last value sent per handle, method and key
}

type rpcRequest struct {
	ID     json.RawMessage `json:"id"`
	Handle *int            `json:"handle"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Delta  bool            `json:"delta"`
}

type rpcError struct {
	Code      int    `json:"code"`
	Parameter string `json:"parameter"`
	Message   string `json:"message"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Delta   bool            `json:"delta,omitempty"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// serveEngine upgrades the request (already authorized: session cookie,
// CSRF token, Origin) to the engine WebSocket of the app in path, the rest of
// the URL after "app/", and answers its JSON-RPC until the client leaves or
// stop is done.
func serveEngine(stop context.Context, w http.ResponseWriter, r *http.Request, path string, u engineUser) {
	appID, _, _ := strings.Cut(path, "/") // /identity/<id> and /ttl/<n> may follow
	// The Origin was checked by the caller against the proxy's or tenant's
	// own rules (docs/qlik-rules.md, S-WS-2), which differ from the
	// library's same-host default.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the request
	}
	defer conn.CloseNow()
	conn.SetReadLimit(engineReadLimit)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(stop, cancel)()

	e := &engineConn{conn: conn, appID: appID, user: u, objects: map[int]*engineObject{}, next: docHandle + 1, delta: map[string][]byte{}}
	// A QSEoW engine first says who the proxy authenticated, then both
	// variants say the session is new.
	if u.qseow != nil {
		if e.notify(ctx, "OnAuthenticationInformation", u.qseow) != nil {
			return
		}
	}
	if e.notify(ctx, "OnConnected", map[string]any{"qSessionState": "SESSION_CREATED"}) != nil {
		return
	}
	for {
		typ, msg, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			_ = conn.Close(websocket.StatusUnsupportedData, "the engine speaks JSON-RPC in text messages")
			return
		}
		if e.write(ctx, e.answer(msg)) != nil {
			return
		}
	}
}

func (e *engineConn) notify(ctx context.Context, method string, params any) error {
	return e.write(ctx, map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

func (e *engineConn) write(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return e.conn.Write(ctx, websocket.MessageText, b)
}

// answer returns the response to one request.
func (e *engineConn) answer(msg []byte) rpcResponse {
	var req rpcRequest
	if err := json.Unmarshal(msg, &req); err != nil {
		return rpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{rpcParseError, err.Error(), "Parse error"}}
	}
	resp := rpcResponse{JSONRPC: "2.0", ID: req.ID}
	if len(req.ID) == 0 || req.Method == "" || req.Handle == nil {
		resp.Error = &rpcError{rpcInvalidRequest, "a request needs id, handle and method", "Invalid Request"}
		return resp
	}
	p, err := readParams(req.Params)
	if err != nil {
		resp.Error = &rpcError{rpcInvalidParams, err.Error(), "Invalid Params"}
		return resp
	}
	result, rerr := e.call(*req.Handle, req.Method, p)
	if rerr != nil {
		resp.Error = rerr
		return resp
	}
	if req.Delta {
		resp.Delta = true
		resp.Result = e.patches(*req.Handle, req.Method, result)
	} else {
		resp.Result = result
	}
	return resp
}

// call runs method on the object of handle.
func (e *engineConn) call(handle int, method string, p params) (map[string]any, *rpcError) {
	switch {
	case handle == globalHandle:
		return e.global(method, p)
	case handle == docHandle && e.docOpen:
		return e.doc(method, p)
	case e.objects[handle] != nil:
		return e.objects[handle].call(method)
	}
	return nil, &rpcError{rpcInvalidParams, "Invalid handle", "Invalid Params"}
}

func (e *engineConn) global(method string, p params) (map[string]any, *rpcError) {
	switch method {
	case "EngineVersion":
		return map[string]any{"qVersion": map[string]any{"qComponentVersion": EngineVersion}}, nil
	case "GetAuthenticatedUser":
		return map[string]any{"qReturn": e.user.authenticated}, nil
	case "OpenDoc":
		var name string
		if !p.get(0, "qDocName", &name) || name == "" {
			return nil, &rpcError{rpcInvalidParams, "qDocName", "Invalid Params"}
		}
		if name != e.appID || name != SampleAppID {
			return nil, &rpcError{locerrAppNotFound, name, "App not found"}
		}
		if e.docOpen {
			return nil, &rpcError{locerrAppOpen, name, "App already open"}
		}
		e.docOpen = true
		return map[string]any{"qReturn": docRef()}, nil
	case "GetActiveDoc":
		if !e.docOpen {
			return nil, &rpcError{locerrAppNotOpen, "", "App not open"}
		}
		return map[string]any{"qReturn": docRef()}, nil
	}
	return nil, &rpcError{rpcMethodNotFound, method, "Method not found"}
}

func docRef() map[string]any {
	return map[string]any{"qType": "Doc", "qHandle": docHandle, "qGenericId": SampleAppID}
}

// patches turns each out parameter into the delta protocol's JSON Patch
// list, as the engine does when a request has "delta": true: the whole value
// the first time, nothing while it is unchanged, a replacement otherwise.
func (e *engineConn) patches(handle int, method string, result map[string]any) map[string]any {
	out := make(map[string]any, len(result))
	for k, v := range result {
		b, _ := json.Marshal(v)
		key := fmt.Sprintf("%d/%s/%s", handle, method, k)
		last, seen := e.delta[key]
		e.delta[key] = b
		switch {
		case !seen:
			out[k] = []any{map[string]any{"op": "add", "path": "/", "value": json.RawMessage(b)}}
		case bytes.Equal(last, b):
			out[k] = []any{}
		default:
			out[k] = []any{map[string]any{"op": "replace", "path": "/", "value": json.RawMessage(b)}}
		}
	}
	return out
}

// params are a request's parameters, by position or by name.
type params struct {
	list  []json.RawMessage
	named map[string]json.RawMessage
}

func readParams(raw json.RawMessage) (params, error) {
	var p params
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return p, nil
	case raw[0] == '[':
		return p, json.Unmarshal(raw, &p.list)
	case raw[0] == '{':
		return p, json.Unmarshal(raw, &p.named)
	}
	return p, errors.New("params must be an array or an object")
}

// get reads the parameter at position i or named name into v, reporting
// whether it was there and of the right type.
func (p params) get(i int, name string, v any) bool {
	raw, ok := p.named[name]
	if p.list != nil {
		ok = i < len(p.list)
		if ok {
			raw = p.list[i]
		}
	}
	return ok && json.Unmarshal(raw, v) == nil
}
