package pkcs11

import (
	"bytes"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"

	ck "github.com/miekg/pkcs11"
	"github.com/qsjwt/qsjwt"
)

// Key is an RSA private key in a PKCS #11 token. It is a crypto.Signer and a
// crypto.MessageSigner, and a qsjwt.Signer through [Key.Signer]. It is safe
// for concurrent use; Close it when done.
//
// A Key keeps what it needs to find its key again: when the token restarts,
// the user is logged out or the sessions are closed (CKR_SESSION_HANDLE_INVALID,
// CKR_OBJECT_HANDLE_INVALID, CKR_USER_NOT_LOGGED_IN, CKR_DEVICE_ERROR,
// CKR_CRYPTOKI_NOT_INITIALIZED …) the next signing call opens a session,
// logs in, finds the key by the URI's token and the key's label and id, and
// checks that its public key is the one the Key was opened with before it
// signs; otherwise it fails with [ErrKeyChanged].
type Key struct {
	desc  string // the URI without PIN, for messages
	mod   *module
	slot  tokenMatch
	match []*ck.Attribute // finds the private key again
	pin   string
	login bool // a PIN was given
	pub   *rsa.PublicKey

	sem  chan struct{} // one token per session in use
	done chan struct{} // closed by Close

	mu     sync.Mutex
	conn   conn
	idle   []session
	closed bool
}

// conn is what a connection found: valid only for the library generation
// modGen; gen numbers connections so that stale sessions can be told apart.
type conn struct {
	valid  bool
	modGen uint64
	gen    uint64
	slotID uint
	obj    ck.ObjectHandle
}

type session struct {
	h      ck.SessionHandle
	gen    uint64 // the conn generation
	modGen uint64 // the library generation: a handle of another one may be reused
}

// tokenMatch selects a token.
type tokenMatch struct {
	label, serial, manufacturer, model string
	slotID                             *uint
}

// Open loads the module the URI names, logs in to its token and finds the
// private key; see [URI] for the attributes. The PIN comes from exactly one
// of pin-source, pin-value, [WithPINEnv] or [WithPIN]. The key must be RSA
// of at least qsjwt.MinRSABits bits: Qlik checks RS256/RS384/RS512, so an
// EC key, or a smaller RSA key, is refused with an error wrapping
// qsjwt.ErrKey that says to create an RSA key in the HSM.
func Open(uri string, opts ...Option) (*Key, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	cfg := config{maxSessions: DefaultMaxSessions}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.maxSessions < 1 {
		return nil, fmt.Errorf("qsjwt/pkcs11: WithMaxSessions(%d): at least 1 session is needed", cfg.maxSessions)
	}
	path := u.ModulePath
	switch {
	case path == "" && cfg.modulePath == "":
		return nil, fmt.Errorf("%w: no module: add module-path=/path/to/module.so to the URI (for SoftHSM2 e.g. /usr/lib/softhsm/libsofthsm2.so) or use WithModulePath", ErrURI)
	case path == "":
		path = cfg.modulePath
	case cfg.modulePath != "" && cfg.modulePath != path:
		return nil, fmt.Errorf("%w: module-path %s and WithModulePath(%s) disagree; give one", ErrURI, path, cfg.modulePath)
	}
	pin, login, err := resolvePIN(u, cfg)
	if err != nil {
		return nil, err
	}
	mod, err := openModule(path)
	if err != nil {
		return nil, err
	}
	k := &Key{
		desc: u.String(),
		mod:  mod,
		slot: tokenMatch{label: u.Token, serial: u.Serial, manufacturer: u.Manufacturer, model: u.Model, slotID: u.SlotID},
		pin:  pin, login: login,
		sem:  make(chan struct{}, cfg.maxSessions),
		done: make(chan struct{}),
	}
	k.match = []*ck.Attribute{ck.NewAttribute(ck.CKA_CLASS, ck.CKO_PRIVATE_KEY)}
	if u.Object != "" {
		k.match = append(k.match, ck.NewAttribute(ck.CKA_LABEL, u.Object))
	}
	if u.ID != nil {
		k.match = append(k.match, ck.NewAttribute(ck.CKA_ID, u.ID))
	}
	k.mu.Lock()
	err = k.connect()
	k.mu.Unlock()
	if err != nil {
		k.dropIdle()
		mod.release()
		return nil, err
	}
	return k, nil
}

// resolvePIN returns the one PIN given, and whether one was given.
func resolvePIN(u *URI, cfg config) (string, bool, error) {
	var given []string
	if u.PINSource != "" {
		given = append(given, "pin-source")
	}
	if u.pinValue != "" {
		given = append(given, "pin-value")
	}
	if cfg.pinEnv != "" {
		given = append(given, "WithPINEnv")
	}
	if cfg.pin != nil {
		given = append(given, "WithPIN")
	}
	switch {
	case len(given) > 1:
		return "", false, fmt.Errorf("%w: give the PIN one way, not %s", ErrPIN, strings.Join(given, " and "))
	case u.PINSource != "":
		pin, err := readPINSource(u.PINSource)
		return pin, err == nil, err
	case u.pinValue != "":
		return u.pinValue, true, nil
	case cfg.pinEnv != "":
		pin, ok := os.LookupEnv(cfg.pinEnv)
		if !ok || pin == "" {
			return "", false, fmt.Errorf("%w: the environment variable %s (WithPINEnv) is not set or empty", ErrPIN, cfg.pinEnv)
		}
		return pin, true, nil
	case cfg.pin != nil:
		return *cfg.pin, true, nil
	}
	return "", false, nil
}

// connect finds the token and the key and checks the public key; k.mu is
// held. On the first call it records the public key and how to find the
// key again (its label and id).
func (k *Key) connect() error {
	k.dropIdleLocked()
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		c, modGen := k.mod.current()
		err = k.connectOnce(c, modGen)
		if err == nil {
			return nil
		}
		switch classify(err) {
		case reinitModule:
			if rerr := k.mod.reinitialize(modGen, false); rerr != nil {
				return rerr
			}
		case resetModule:
			if rerr := k.mod.reinitialize(modGen, true); rerr != nil {
				return rerr
			}
		default:
			return err
		}
	}
	return err
}

func (k *Key) connectOnce(c *ck.Ctx, modGen uint64) error {
	slotID, err := k.findSlot(c)
	if err != nil {
		return err
	}
	next := conn{valid: true, modGen: modGen, gen: k.conn.gen + 1, slotID: slotID}
	s, err := k.openSession(c, next)
	if err != nil {
		return err
	}
	obj, err := k.findKey(c, s.h)
	if err != nil {
		_ = c.CloseSession(s.h)
		return err
	}
	pub, err := k.readPublic(c, s.h, obj)
	if err != nil {
		_ = c.CloseSession(s.h)
		return err
	}
	if k.pub == nil {
		k.pub = pub
		if err := k.pinObject(c, s.h, obj); err != nil {
			_ = c.CloseSession(s.h)
			return err
		}
	} else if !k.pub.Equal(pub) {
		_ = c.CloseSession(s.h)
		return fmt.Errorf("%w: %s now finds an RSA-%d key with another public key than the one this signer was opened with; refusing to sign (open the key again if the change is intended)", ErrKeyChanged, k.desc, pub.N.BitLen())
	}
	next.obj = obj
	k.conn = next
	k.idle = append(k.idle, s)
	return nil
}

// findSlot returns the one slot whose token matches the URI.
func (k *Key) findSlot(c *ck.Ctx) (uint, error) {
	slots, err := c.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("listing the slots of %s: %w", k.mod.path, err)
	}
	var found []uint
	var labels []string
	for _, id := range slots {
		info, err := c.GetTokenInfo(id)
		if err != nil {
			continue
		}
		label := strings.TrimRight(info.Label, " \x00")
		labels = append(labels, fmt.Sprintf("%q", label))
		m := k.slot
		if m.slotID != nil && *m.slotID != id ||
			m.label != "" && m.label != label ||
			m.serial != "" && m.serial != strings.TrimRight(info.SerialNumber, " \x00") ||
			m.manufacturer != "" && m.manufacturer != strings.TrimRight(info.ManufacturerID, " \x00") ||
			m.model != "" && m.model != strings.TrimRight(info.Model, " \x00") {
			continue
		}
		found = append(found, id)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return 0, fmt.Errorf("%w: no token matches %s (tokens present: %s)", ErrNotFound, k.desc, strings.Join(labels, ", "))
	}
	return 0, fmt.Errorf("%w: %d tokens match %s; add token=LABEL or serial=… to the URI", ErrNotFound, len(found), k.desc)
}

// openSession opens a session and logs in; CKR_USER_ALREADY_LOGGED_IN is
// fine (the login belongs to the application, not the session).
func (k *Key) openSession(c *ck.Ctx, cn conn) (session, error) {
	h, err := c.OpenSession(cn.slotID, ck.CKF_SERIAL_SESSION)
	if err != nil {
		return session{}, fmt.Errorf("opening a session on %s: %w", k.desc, err)
	}
	if k.login {
		err := c.Login(h, ck.CKU_USER, k.pin)
		if err != nil && !errors.Is(err, ck.Error(ck.CKR_USER_ALREADY_LOGGED_IN)) {
			_ = c.CloseSession(h)
			return session{}, loginError(k.desc, err)
		}
	}
	return session{h: h, gen: cn.gen, modGen: cn.modGen}, nil
}

// loginError explains a failed C_Login without the PIN.
func loginError(desc string, err error) error {
	var code ck.Error
	if errors.As(err, &code) {
		switch code {
		case ck.CKR_PIN_INCORRECT:
			return fmt.Errorf("%w: the token refused the PIN for %s (CKR_PIN_INCORRECT); check pin-source, pin-value or the PIN variable", ErrPIN, desc)
		case ck.CKR_PIN_LOCKED:
			return fmt.Errorf("%w: the user PIN of %s is locked (CKR_PIN_LOCKED); the security officer must unlock it", ErrPIN, desc)
		case ck.CKR_PIN_EXPIRED:
			return fmt.Errorf("%w: the user PIN of %s has expired (CKR_PIN_EXPIRED); set a new one", ErrPIN, desc)
		}
	}
	return fmt.Errorf("logging in to %s: %w", desc, err)
}

// findKey returns the one private key that matches.
func (k *Key) findKey(c *ck.Ctx, s ck.SessionHandle) (ck.ObjectHandle, error) {
	objs, err := findObjects(c, s, k.match)
	if err != nil {
		return 0, fmt.Errorf("looking for the key %s: %w", k.desc, err)
	}
	switch len(objs) {
	case 1:
		return objs[0], nil
	case 0:
		hint := ""
		if !k.login {
			hint = " (no PIN was given: private keys are usually visible only after logging in; add pin-source=FILE)"
		}
		return 0, fmt.Errorf("%w: no private key matches %s%s", ErrNotFound, k.desc, hint)
	}
	return 0, fmt.Errorf("%w: %d private keys match %s; add object=LABEL or id=… to the URI", ErrNotFound, len(objs), k.desc)
}

func findObjects(c *ck.Ctx, s ck.SessionHandle, tmpl []*ck.Attribute) ([]ck.ObjectHandle, error) {
	if err := c.FindObjectsInit(s, tmpl); err != nil {
		return nil, err
	}
	objs, _, err := c.FindObjects(s, 2)
	if ferr := c.FindObjectsFinal(s); err == nil {
		err = ferr
	}
	return objs, err
}

// pinObject narrows the search to the key's own label and id, so that a
// URI that named neither still finds the same key after a reconnection.
func (k *Key) pinObject(c *ck.Ctx, s ck.SessionHandle, obj ck.ObjectHandle) error {
	attrs, err := c.GetAttributeValue(s, obj, []*ck.Attribute{ck.NewAttribute(ck.CKA_LABEL, nil), ck.NewAttribute(ck.CKA_ID, nil)})
	if err != nil {
		return fmt.Errorf("reading the label and id of %s: %w", k.desc, err)
	}
	match := []*ck.Attribute{ck.NewAttribute(ck.CKA_CLASS, ck.CKO_PRIVATE_KEY)}
	for _, a := range attrs {
		if len(a.Value) > 0 {
			match = append(match, ck.NewAttribute(a.Type, a.Value))
		}
	}
	k.match = match
	return nil
}

// readPublic reads the key's type and, for RSA, its public half, from the
// private key object or else from the public key object with the same id.
func (k *Key) readPublic(c *ck.Ctx, s ck.SessionHandle, obj ck.ObjectHandle) (*rsa.PublicKey, error) {
	attrs, err := c.GetAttributeValue(s, obj, []*ck.Attribute{ck.NewAttribute(ck.CKA_KEY_TYPE, nil)})
	if err != nil {
		return nil, fmt.Errorf("reading the key type of %s: %w", k.desc, err)
	}
	switch kt := bytesToUint(attrs[0].Value); kt {
	case ck.CKK_RSA:
	case ck.CKK_EC:
		curve := "EC"
		if a, err := c.GetAttributeValue(s, obj, []*ck.Attribute{ck.NewAttribute(ck.CKA_EC_PARAMS, nil)}); err == nil {
			curve = curveName(a[0].Value)
		}
		return nil, keyAdvice(k.desc, "an ECDSA key ("+curve+")")
	default:
		return nil, keyAdvice(k.desc, fmt.Sprintf("a key of PKCS #11 type 0x%x", kt))
	}
	pubTmpl := []*ck.Attribute{ck.NewAttribute(ck.CKA_MODULUS, nil), ck.NewAttribute(ck.CKA_PUBLIC_EXPONENT, nil)}
	attrs, err = c.GetAttributeValue(s, obj, pubTmpl)
	if err != nil || len(attrs) != 2 || len(attrs[0].Value) == 0 {
		// Some tokens do not show the modulus on the private key.
		idAttr, ierr := c.GetAttributeValue(s, obj, []*ck.Attribute{ck.NewAttribute(ck.CKA_ID, nil)})
		if ierr != nil {
			return nil, fmt.Errorf("reading the public key of %s: %w", k.desc, err)
		}
		objs, ferr := findObjects(c, s, []*ck.Attribute{ck.NewAttribute(ck.CKA_CLASS, ck.CKO_PUBLIC_KEY), ck.NewAttribute(ck.CKA_ID, idAttr[0].Value)})
		if ferr != nil || len(objs) != 1 {
			return nil, fmt.Errorf("%w: the token shows no modulus for %s and no single public key with the same id", ErrNotFound, k.desc)
		}
		if attrs, err = c.GetAttributeValue(s, objs[0], pubTmpl); err != nil {
			return nil, fmt.Errorf("reading the public key of %s: %w", k.desc, err)
		}
	}
	e := new(big.Int).SetBytes(attrs[1].Value)
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
		return nil, fmt.Errorf("%w: %s has an unusual RSA public exponent that Go cannot verify", qsjwt.ErrKey, k.desc)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(attrs[0].Value), E: int(e.Int64())}
	if bits := pub.N.BitLen(); bits < qsjwt.MinRSABits {
		return nil, keyAdvice(k.desc, fmt.Sprintf("an RSA-%d key", bits))
	}
	return pub, nil
}

// keyAdvice refuses a key that cannot sign Qlik tokens, with advice that
// fits a key living in an HSM.
func keyAdvice(desc, what string) error {
	return fmt.Errorf("%w: %s is %s; Qlik (QSEoW and Qlik Cloud) checks RS256/RS384/RS512 signatures of an RSA key of at least %d bits: create an RSA key of at least %d bits in the HSM (e.g. pkcs11-tool --keypairgen --key-type rsa:3072 --usage-sign --label LABEL, or the HSM's own tool) and point the URI at it",
		qsjwt.ErrKey, desc, what, qsjwt.MinRSABits, qsjwt.MinRSABits)
}

// curveName names a named curve from its DER OID, or "EC".
func curveName(params []byte) string {
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(params, &oid); err != nil {
		return "EC"
	}
	switch {
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}):
		return "P-256"
	case oid.Equal(asn1.ObjectIdentifier{1, 3, 132, 0, 34}):
		return "P-384"
	case oid.Equal(asn1.ObjectIdentifier{1, 3, 132, 0, 35}):
		return "P-521"
	}
	return "EC " + oid.String()
}

// bytesToUint reads a CK_ULONG attribute (native byte order, as the
// library wrote it).
func bytesToUint(b []byte) uint {
	var v uint
	if nativeLittleEndian {
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint(b[i])
		}
	} else {
		for _, c := range b {
			v = v<<8 | uint(c)
		}
	}
	return v
}

var nativeLittleEndian = bytes.Equal(ck.NewAttribute(0, uint(1)).Value[:1], []byte{1})

// dropIdle closes the idle sessions.
func (k *Key) dropIdle() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dropIdleLocked()
}

func (k *Key) dropIdleLocked() {
	c, modGen := k.mod.current()
	for _, s := range k.idle {
		if s.modGen == modGen {
			_ = c.CloseSession(s.h) // best effort: it may be gone already
		}
	}
	k.idle = nil
}
