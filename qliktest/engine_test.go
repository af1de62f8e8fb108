package qliktest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/qsjwt/qsjwt/qliktest"
)

// rpc is one engine WebSocket seen from a client.
type rpc struct {
	t    *testing.T
	conn *websocket.Conn
	id   int
}

// cloudEngine logs a user in to tenant with a JWT, fetches the CSRF token
// and opens the engine WebSocket of the sample app (path after the app ID,
// e.g. "" or "/identity/x") with the session cookies, as a Node client does.
func cloudEngine(t *testing.T, tenant *qliktest.Cloud, path string) *rpc {
	t.Helper()
	e, cookies := login(t, tenant, signJWT(t, tenant.Key, cloudHeader(tenant), cloudClaims(tenant, time.Now(), "j1")))
	require.Equal(t, http.StatusOK, e.Status, e.Detail)
	resp, _, _ := do(t, tenant.Client(), http.MethodGet, tenant.URL+"/api/v1/csrf-token", nil, cookies...)
	var pairs []string
	for _, c := range cookies {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	ws := strings.Replace(tenant.URL, "https", "wss", 1) + "/app/" + qliktest.SampleAppID + path + "?qlik-csrf-token=" + resp.Header.Get("qlik-csrf-token")
	return dialEngine(t, tenant.Client(), ws, http.Header{"Cookie": {strings.Join(pairs, "; ")}})
}

func dialEngine(t *testing.T, c *http.Client, wsURL string, h http.Header) *rpc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: c, HTTPHeader: h})
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	t.Cleanup(func() { conn.CloseNow() })
	return &rpc{t: t, conn: conn}
}

func (r *rpc) read() map[string]any {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, msg, err := r.conn.Read(ctx)
	require.NoError(r.t, err)
	require.Equal(r.t, websocket.MessageText, typ)
	var m map[string]any
	require.NoError(r.t, json.Unmarshal(msg, &m), string(msg))
	return m
}

// call sends a request and returns the response with its id checked.
func (r *rpc) call(handle int, method string, delta bool, params any) map[string]any {
	r.t.Helper()
	r.id++
	req := map[string]any{"jsonrpc": "2.0", "id": r.id, "handle": handle, "method": method, "params": params}
	if delta {
		req["delta"] = true
	}
	b, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(r.t, r.conn.Write(ctx, websocket.MessageText, b))
	resp := r.read()
	assert.Equal(r.t, "2.0", resp["jsonrpc"])
	assert.EqualValues(r.t, r.id, resp["id"], "%s answers its own id", method)
	return resp
}

// jsonOf re-encodes v, for comparing answers with JSON text.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestEngineQSEoW(t *testing.T) {
	p := qliktest.NewQSEoW(qliktest.QSEoWConfig{})
	defer p.Close()
	resp, _, e := call(t, p, "qps/csrftoken", qseowToken(t, p, func(_, c map[string]any) { c["exp"] = time.Now().Add(time.Hour).Unix() }))
	require.Equal(t, 200, resp.StatusCode, e.Detail)
	cookie := resp.Cookies()[0]
	ws := strings.Replace(p.ProxyURL, "https", "wss", 1) + "/app/" + qliktest.SampleAppID +
		"?reloadUri=x&qlik-csrf-token=" + resp.Header.Get("qlik-csrf-token")
	r := dialEngine(t, p.Client(), ws, http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}})

	auth := r.read()
	assert.Equal(t, "OnAuthenticationInformation", auth["method"], "QSEoW's engine first names the user")
	params := auth["params"].(map[string]any)
	assert.Equal(t, "anna", params["userId"])
	assert.Equal(t, "DIR", params["userDirectory"])
	assert.Equal(t, false, params["mustAuthenticate"])
	assert.JSONEq(t, `{"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}}`, jsonOf(t, r.read()))

	got := r.call(-1, "GetAuthenticatedUser", false, []any{})
	assert.JSONEq(t, `{"qReturn":"UserDirectory=DIR; UserId=anna"}`, jsonOf(t, got["result"]))
	got = r.call(-1, "EngineVersion", false, []any{})
	assert.JSONEq(t, `{"qVersion":{"qComponentVersion":"`+qliktest.EngineVersion+`"}}`, jsonOf(t, got["result"]))

	got = r.call(1, "GetAppLayout", false, []any{})
	assert.JSONEq(t, `{"code":-32602,"parameter":"Invalid handle","message":"Invalid Params"}`, jsonOf(t, got["error"]), "no Doc before OpenDoc")
	got = r.call(-1, "OpenDoc", false, []any{"another-app"})
	assert.EqualValues(t, 1003, got["error"].(map[string]any)["code"], "LOCERR_APP_NOT_FOUND")
	got = r.call(-1, "OpenDoc", false, map[string]any{"qDocName": qliktest.SampleAppID})
	require.Nil(t, got["error"])
	assert.JSONEq(t, `{"qReturn":{"qType":"Doc","qHandle":1,"qGenericId":"`+qliktest.SampleAppID+`"}}`, jsonOf(t, got["result"]))
	got = r.call(-1, "OpenDoc", false, []any{qliktest.SampleAppID})
	assert.EqualValues(t, 1002, got["error"].(map[string]any)["code"], "LOCERR_APP_ALREADY_OPEN")

	got = r.call(1, "GetObjects", false, []any{map[string]any{"qTypes": []string{"sheet"}, "qData": map[string]any{"title": "/qMetaDef/title", "rank": "/rank"}}})
	list := got["result"].(map[string]any)["qList"].([]any)
	require.Len(t, list, len(qliktest.SampleSheets))
	for i, title := range qliktest.SampleSheets {
		item := list[i].(map[string]any)
		assert.Equal(t, "sheet", item["qInfo"].(map[string]any)["qType"])
		assert.JSONEq(t, `{"title":"`+title+`","rank":`+jsonOf(t, i)+`}`, jsonOf(t, item["qData"]))
	}
	got = r.call(1, "GetObjects", false, []any{map[string]any{"qTypes": []string{"masterobject"}}})
	assert.JSONEq(t, `{"qList":[]}`, jsonOf(t, got["result"]))
	got = r.call(1, "NoSuchMethod", false, []any{})
	assert.JSONEq(t, `{"code":-32601,"parameter":"NoSuchMethod","message":"Method not found"}`, jsonOf(t, got["error"]))
	assert.Nil(t, got["result"])
}

func TestEngineCloudDelta(t *testing.T) {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{})
	defer tenant.Close()
	r := cloudEngine(t, tenant, "")
	assert.JSONEq(t, `{"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}}`, jsonOf(t, r.read()),
		"Qlik Cloud's engine sends no OnAuthenticationInformation")

	got := r.call(-1, "OpenDoc", true, []any{qliktest.SampleAppID, "", "", "", false})
	assert.Equal(t, true, got["delta"])
	assert.JSONEq(t, `{"qReturn":[{"op":"add","path":"/","value":{"qType":"Doc","qHandle":1,"qGenericId":"`+qliktest.SampleAppID+`"}}]}`, jsonOf(t, got["result"]))

	// The delta protocol: the whole value first, then nothing while it stays.
	got = r.call(1, "GetAppLayout", true, []any{})
	patches := got["result"].(map[string]any)["qLayout"].([]any)
	require.Len(t, patches, 1)
	patch := patches[0].(map[string]any)
	assert.Equal(t, "add", patch["op"])
	assert.Equal(t, "/", patch["path"])
	assert.Equal(t, qliktest.SampleAppTitle, patch["value"].(map[string]any)["qTitle"])
	got = r.call(1, "GetAppLayout", true, []any{})
	assert.JSONEq(t, `{"qLayout":[]}`, jsonOf(t, got["result"]))
	got = r.call(1, "GetAppLayout", false, []any{})
	assert.Equal(t, qliktest.SampleAppTitle, got["result"].(map[string]any)["qLayout"].(map[string]any)["qTitle"], "without delta, the value itself")

	// @qlik/api's getSheetList: a session object with qAppObjectListDef.
	got = r.call(1, "CreateSessionObject", false, []any{map[string]any{
		"qInfo":             map[string]any{"qId": "SheetList", "qType": "SheetList"},
		"qAppObjectListDef": map[string]any{"qType": "sheet", "qData": map[string]any{"title": "/qMetaDef/title", "missing": "/nothing"}},
	}})
	ref := got["result"].(map[string]any)["qReturn"].(map[string]any)
	assert.Equal(t, "GenericObject", ref["qType"])
	assert.Equal(t, "SheetList", ref["qGenericId"])
	got = r.call(int(ref["qHandle"].(float64)), "GetLayout", false, []any{})
	layout := got["result"].(map[string]any)["qLayout"].(map[string]any)
	assert.JSONEq(t, `{"qId":"SheetList","qType":"SheetList"}`, jsonOf(t, layout["qInfo"]))
	items := layout["qAppObjectList"].(map[string]any)["qItems"].([]any)
	require.Len(t, items, len(qliktest.SampleSheets))
	assert.JSONEq(t, `{"title":"`+qliktest.SampleSheets[0]+`"}`, jsonOf(t, items[0].(map[string]any)["qData"]), "a path the object lacks is left out")

	got = r.call(1, "GetAllInfos", false, nil)
	assert.Len(t, got["result"].(map[string]any)["qInfos"], len(qliktest.SampleSheets))
	got = r.call(1, "GetObject", false, []any{"sheet-overview"})
	sheet := int(got["result"].(map[string]any)["qReturn"].(map[string]any)["qHandle"].(float64))
	got = r.call(sheet, "GetLayout", false, []any{})
	assert.Equal(t, "Overview", got["result"].(map[string]any)["qLayout"].(map[string]any)["qMeta"].(map[string]any)["title"])
	got = r.call(1, "GetObject", false, []any{"nope"})
	assert.EqualValues(t, 2, got["error"].(map[string]any)["code"], "LOCERR_GENERIC_NOT_FOUND")
}

// The engine WebSockets end when the emulator closes.
func TestEngineClosesWithServer(t *testing.T) {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{})
	r := cloudEngine(t, tenant, "")
	r.read() // OnConnected
	tenant.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := r.conn.Read(ctx)
	require.Error(t, err)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the server ended the connection")
}

// What is not a request gets the JSON-RPC errors, and the connection stays.
func TestEngineMalformedRequests(t *testing.T) {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{})
	defer tenant.Close()
	r := cloudEngine(t, tenant, "/identity/x")
	r.read() // OnConnected

	send := func(text string) map[string]any {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, r.conn.Write(ctx, websocket.MessageText, []byte(text)))
		return r.read()
	}
	got := send(`{"jsonrpc":"2.0","id":1,`)
	assert.EqualValues(t, -32700, got["error"].(map[string]any)["code"], "not JSON")
	assert.Nil(t, got["id"])
	got = send(`{"jsonrpc":"2.0","id":2,"method":"EngineVersion"}`)
	assert.EqualValues(t, -32600, got["error"].(map[string]any)["code"], "no handle")
	assert.EqualValues(t, 2, got["id"])
	got = send(`{"jsonrpc":"2.0","id":3,"handle":-1,"method":"OpenDoc","params":"app"}`)
	assert.EqualValues(t, -32602, got["error"].(map[string]any)["code"], "params neither array nor object")
	got = send(`{"jsonrpc":"2.0","id":"four","handle":-1,"method":"OpenDoc","params":{"qDocName":42}}`)
	assert.Equal(t, "four", got["id"], "any id comes back as sent")
	assert.EqualValues(t, -32602, got["error"].(map[string]any)["code"], "a number for qDocName")
	got = r.call(-1, "GetActiveDoc", false, []any{})
	assert.EqualValues(t, 1017, got["error"].(map[string]any)["code"], "LOCERR_APP_NOT_OPEN")
	got = r.call(-1, "OpenDoc", false, []any{qliktest.SampleAppID})
	require.Nil(t, got["error"], "/identity/<id> after the app ID is the same app")
	got = r.call(-1, "GetActiveDoc", false, []any{})
	assert.EqualValues(t, 1, got["result"].(map[string]any)["qReturn"].(map[string]any)["qHandle"])

	// The engine speaks text: a binary message ends the connection.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, r.conn.Write(ctx, websocket.MessageBinary, []byte("{}")))
	_, _, err := r.conn.Read(ctx)
	assert.Equal(t, websocket.StatusUnsupportedData, websocket.CloseStatus(err))
}

// An app ID the engine does not hold opens the socket, but not the app.
func TestEngineOtherApp(t *testing.T) {
	p := qliktest.NewQSEoW(qliktest.QSEoWConfig{})
	defer p.Close()
	resp, _, e := call(t, p, "qps/csrftoken", qseowToken(t, p, func(_, c map[string]any) { c["exp"] = time.Now().Add(time.Hour).Unix() }))
	require.Equal(t, 200, resp.StatusCode, e.Detail)
	cookie := resp.Cookies()[0]
	ws := strings.Replace(p.ProxyURL, "https", "wss", 1) + "/app/app-1?qlik-csrf-token=" + resp.Header.Get("qlik-csrf-token")
	r := dialEngine(t, p.Client(), ws, http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}})
	r.read()
	r.read()
	for _, name := range []string{"app-1", qliktest.SampleAppID} {
		got := r.call(-1, "OpenDoc", false, []any{name})
		assert.EqualValues(t, 1003, got["error"].(map[string]any)["code"], "OpenDoc %s on the socket of app-1", name)
	}
}
