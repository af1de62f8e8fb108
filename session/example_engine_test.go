package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/coder/websocket"

	"github.com/qsjwt/qsjwt"
	"github.com/qsjwt/qsjwt/qliktest"
	"github.com/qsjwt/qsjwt/session"
)

// Open an app over the engine WebSocket of a Qlik Cloud session, with
// github.com/coder/websocket, and read its layout. The tenant here is an
// emulator holding one app; give your tenant's URL and app ID, and leave out
// WithBaseTransport and HTTPClient.
func ExampleCloud_EngineWebSocket() {
	tenant := qliktest.NewCloud(qliktest.CloudConfig{})
	defer tenant.Close()
	signer, err := qsjwt.SignerFromCrypto(tenant.Key) // qsjwt.SignerFromPEMFile("privatekey.pem")
	if err != nil {
		log.Fatal(err)
	}
	cloud, err := qsjwt.NewCloud(signer, tenant.Issuer, tenant.KeyID)
	if err != nil {
		log.Fatal(err)
	}
	user := qsjwt.CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com", EmailVerified: true}
	sess, err := session.NewCloud(tenant.URL, cloud.TokenSource(user), session.WithBaseTransport(tenant.Client().Transport))
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	wsURL, header, err := sess.EngineWebSocket(ctx, qliktest.SampleAppID) // logs in, reads the CSRF token
	if err != nil {
		log.Fatal(err)
	}
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: header, HTTPClient: tenant.Client()})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()

	if _, err := engineCall(ctx, conn, 1, -1, "OpenDoc", qliktest.SampleAppID); err != nil {
		log.Fatal(err)
	}
	result, err := engineCall(ctx, conn, 2, 1, "GetAppLayout")
	if err != nil {
		log.Fatal(err)
	}
	var layout struct{ QLayout struct{ QTitle string } }
	_ = json.Unmarshal(result, &layout)
	fmt.Println(layout.QLayout.QTitle)
	_ = conn.Close(websocket.StatusNormalClosure, "")
	// Output: qliktest sample app
}

// The same through a QSEoW virtual proxy: the transport's session cookie
// and CSRF token open the engine WebSocket; no token goes on the upgrade.
func ExampleQSEoWTransport_EngineWebSocket() {
	proxy := qliktest.NewQSEoW(qliktest.QSEoWConfig{Prefix: "jwt"})
	defer proxy.Close()
	signer, err := qsjwt.SignerFromCrypto(proxy.Key) // qsjwt.SignerFromPEMFile("privatekey.pem")
	if err != nil {
		log.Fatal(err)
	}
	q, err := qsjwt.NewQSEoW(signer)
	if err != nil {
		log.Fatal(err)
	}
	user := qsjwt.QSEoWUser{UserDirectory: "EXAMPLE", UserID: "anna"}
	transport, err := session.NewQSEoWTransport(proxy.URL+"/jwt", q.TokenSource(user), session.WithBaseTransport(proxy.Client().Transport))
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	wsURL, header, err := transport.EngineWebSocket(ctx, qliktest.SampleAppID)
	if err != nil {
		log.Fatal(err)
	}
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: header, HTTPClient: proxy.Client()})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()

	result, err := engineCall(ctx, conn, 1, -1, "GetAuthenticatedUser")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(result))
	_ = conn.Close(websocket.StatusNormalClosure, "")
	// Output: {"qReturn":"UserDirectory=EXAMPLE; UserId=anna"}
}

// engineCall sends one JSON-RPC request and returns its result, skipping
// the notifications the engine sends first (OnConnected and, on QSEoW,
// OnAuthenticationInformation).
func engineCall(ctx context.Context, conn *websocket.Conn, id, handle int, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	req, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "handle": handle, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	if err := conn.Write(ctx, websocket.MessageText, req); err != nil {
		return nil, err
	}
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		var resp struct {
			ID     *int
			Result json.RawMessage
			Error  *struct {
				Code    int
				Message string
			}
		}
		if err := json.Unmarshal(msg, &resp); err != nil {
			return nil, err
		}
		switch {
		case resp.ID == nil || *resp.ID != id:
			continue // a notification
		case resp.Error != nil:
			return nil, fmt.Errorf("%s: engine error %d: %s", method, resp.Error.Code, resp.Error.Message)
		}
		return resp.Result, nil
	}
}
