package pkcs11

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// URI is an RFC 7512 PKCS #11 URI that names a private key, for example
//
//	pkcs11:token=qlik;object=jwt-signing?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/secrets/hsm-pin
//
// Path attributes select the token (token, serial, manufacturer, model,
// slot-id) and the key (object is the CKA_LABEL, id the CKA_ID; type, when
// given, must be "private"). Query attributes give the module (module-path)
// and the PIN (pin-source, a file whose first line is the PIN, or pin-value).
// Vendor attributes ("x-…") are ignored; any other unknown attribute is an
// error, so that a misspelt one does not select a different key.
//
// A URI never prints its PIN: String and every fmt verb leave pin-value out.
type URI struct {
	ModulePath   string // module-path: the PKCS #11 library to load
	Token        string // token: the token label
	Serial       string // serial: the token serial number
	Manufacturer string // manufacturer: the token manufacturer
	Model        string // model: the token model
	SlotID       *uint  // slot-id: the slot number, nil when not given
	Object       string // object: the key's label (CKA_LABEL)
	ID           []byte // id: the key's CKA_ID, raw bytes
	PINSource    string // pin-source: the file holding the PIN
	pinValue     string // pin-value; never printed
}

// ParseURI parses an RFC 7512 "pkcs11:" URI. Its errors wrap [ErrURI] and
// name the attribute at fault, never the PIN.
func ParseURI(s string) (*URI, error) {
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return nil, fmt.Errorf("%w: it must start with \"pkcs11:\" (RFC 7512), e.g. pkcs11:token=NAME;object=LABEL?module-path=/path/to/module.so", ErrURI)
	}
	path, query, _ := strings.Cut(rest, "?")
	u := &URI{}
	seen := map[string]bool{}
	if err := u.parseAttrs(path, ";", seen, u.setPath); err != nil {
		return nil, err
	}
	if err := u.parseAttrs(query, "&", seen, u.setQuery); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *URI) parseAttrs(s, sep string, seen map[string]bool, set func(name, value string) error) error {
	if s == "" {
		return nil
	}
	for i, attr := range strings.Split(s, sep) {
		name, raw, ok := strings.Cut(attr, "=")
		if !ok || name == "" {
			// Not echoed: it may be a PIN typed without its name.
			return fmt.Errorf("%w: attribute %d (separated by %q) is not a name=value attribute", ErrURI, i+1, sep)
		}
		value, err := url.PathUnescape(raw)
		if err != nil {
			return fmt.Errorf("%w: attribute %s has a bad %%-escape", ErrURI, safeName(name))
		}
		if seen[name] {
			return fmt.Errorf("%w: attribute %s is given twice", ErrURI, safeName(name))
		}
		seen[name] = true
		if err := set(name, value); err != nil {
			return err
		}
	}
	return nil
}

// safeName keeps an attribute name short and free of what may be a PIN
// typed in the wrong place.
func safeName(name string) string {
	if len(name) > 32 {
		return name[:32] + "…"
	}
	return name
}

func (u *URI) setPath(name, value string) error {
	switch name {
	case "token":
		u.Token = value
	case "serial":
		u.Serial = value
	case "manufacturer":
		u.Manufacturer = value
	case "model":
		u.Model = value
	case "object":
		u.Object = value
	case "id":
		u.ID = []byte(value)
	case "slot-id":
		n, err := strconv.ParseUint(value, 10, 0)
		if err != nil {
			return fmt.Errorf("%w: slot-id must be a decimal number", ErrURI)
		}
		id := uint(n)
		u.SlotID = &id
	case "type":
		if value != "private" {
			return fmt.Errorf("%w: type=%s: a signing key is type=private (or leave type out)", ErrURI, safeName(value))
		}
	case "library-manufacturer", "library-description", "library-version", "slot-manufacturer", "slot-description":
		// Informative; the module is chosen by module-path.
	default:
		return unknownAttr(name, "path")
	}
	return nil
}

func (u *URI) setQuery(name, value string) error {
	switch name {
	case "module-path":
		u.ModulePath = value
	case "pin-source":
		u.PINSource = value
	case "pin-value":
		u.pinValue = value
	case "module-name":
		return fmt.Errorf("%w: module-name is not supported; give the library's file with module-path=/path/to/module.so", ErrURI)
	default:
		return unknownAttr(name, "query")
	}
	return nil
}

func unknownAttr(name, part string) error {
	if strings.HasPrefix(name, "x-") {
		return nil
	}
	return fmt.Errorf("%w: unknown %s attribute %s (known: token, serial, manufacturer, model, slot-id, object, id, type; module-path, pin-source, pin-value)", ErrURI, part, safeName(name))
}

// String returns the URI without its pin-value.
func (u URI) String() string {
	var path []string
	add := func(name, value string) {
		if value != "" {
			path = append(path, name+"="+escape(value))
		}
	}
	add("token", u.Token)
	add("serial", u.Serial)
	add("manufacturer", u.Manufacturer)
	add("model", u.Model)
	if u.SlotID != nil {
		add("slot-id", strconv.FormatUint(uint64(*u.SlotID), 10))
	}
	add("object", u.Object)
	add("id", string(u.ID))
	s := "pkcs11:" + strings.Join(path, ";")
	var query []string
	if u.ModulePath != "" {
		query = append(query, "module-path="+escape(u.ModulePath))
	}
	if u.PINSource != "" {
		query = append(query, "pin-source="+escape(u.PINSource))
	}
	if len(query) > 0 {
		s += "?" + strings.Join(query, "&")
	}
	return s
}

// Format prints String: never the PIN.
func (u URI) Format(f fmt.State, _ rune) { fmt.Fprint(f, u.String()) }

// escape percent-encodes everything but RFC 7512's unreserved characters
// and the few path characters safe in a value.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/:", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// maxPINFile caps what is read from a pin-source file.
const maxPINFile = 4096

// readPINSource reads the PIN from the file a pin-source names (a path or a
// file: URI): its first line. Errors name the file, never its content.
func readPINSource(src string) (string, error) {
	path := src
	if rest, ok := strings.CutPrefix(src, "file:"); ok {
		path = strings.TrimPrefix(rest, "//")
		if path == "" || path[0] != '/' {
			return "", fmt.Errorf("%w: pin-source %q: a file: URI needs an absolute path (file:///path)", ErrPIN, src)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: pin-source: %w", ErrPIN, err)
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, maxPINFile+1))
	if err != nil {
		return "", fmt.Errorf("%w: pin-source %s: %w", ErrPIN, path, err)
	}
	if len(buf) > maxPINFile {
		return "", fmt.Errorf("%w: pin-source %s is larger than %d bytes; it must hold only the PIN", ErrPIN, path, maxPINFile)
	}
	pin, _, _ := strings.Cut(string(buf), "\n")
	pin = strings.TrimSuffix(pin, "\r")
	if pin == "" {
		return "", fmt.Errorf("%w: pin-source %s is empty; its first line must be the PIN", ErrPIN, path)
	}
	return pin, nil
}
