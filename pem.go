package qsjwt

// This file finds the PEM blocks in what a user gives as a key or a
// certificate.

import (
	"bytes"
	"encoding/pem"
	"path/filepath"
	"slices"
	"strings"
)

// certificate is a few KiB.
const maxPEMBytes = 1 << 20

// decryptHint says how to remove a private key's encryption.
// What each parser expects, for its errors.
const (
	wantPrivate     = "a private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)"
	wantPublic      = "a certificate (-----BEGIN CERTIFICATE-----, e.g. publickey.cer) or a public key (PUBLIC KEY or RSA PUBLIC KEY)"
	wantCertificate = "a certificate (-----BEGIN CERTIFICATE-----, e.g. publickey.cer)"
)

// pemKind sorts PEM block types.
type pemKind int

const (
	pemUnknown pemKind = iota
	pemPrivate
	pemPublic
	pemCertificate
	pemIgnored
)

// pemKindOf says what a PEM block type holds; any type qsjwt does not read
// is pemUnknown, and refused.
func pemKindOf(blockType string) pemKind {
	switch blockType {
	case "PRIVATE KEY", // PKCS #8
		"RSA PRIVATE KEY",       // PKCS #1
		"EC PRIVATE KEY",        // SEC 1
		"ENCRYPTED PRIVATE KEY": // PKCS #8 PBES2
		return pemPrivate
	case "PUBLIC KEY", // PKIX
		"RSA PUBLIC KEY": // PKCS #1
		return pemPublic
	case "CERTIFICATE":
		return pemCertificate
	case "EC PARAMETERS": // `openssl ecparam -genkey` writes it before the key
		return pemIgnored
	}
	return pemUnknown
}

// pemHint says how to convert block types that are refused but common.
func pemHint(blockType string) string {
	switch blockType {
	case "OPENSSH PRIVATE KEY":
		return "; convert it to PKCS #8 with `ssh-keygen -p -m PKCS8 -f <file>`"
	case "CERTIFICATE REQUEST":
		return "; a certificate request is not a certificate, make one with `openssl req -x509`"
	}
	return ""
}

// normalisePEM undoes what environment variables, .env files and copy and
// paste do to a PEM text: a UTF-8 byte order mark, surrounding white space
// and quotes, literal \n escapes, CRLF or CR line ends and indented lines.
// PEM text holds no backslash or quote, so none of this changes a good
// input.
func normalisePEM(data []byte) []byte {
	data = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(data), []byte("\ufeff")))
	if n := len(data); n >= 2 && (data[0] == '"' || data[0] == '\'') && data[n-1] == data[0] {
		data = data[1 : n-1]
	}
	for _, r := range [...][2]string{{`\r\n`, "\n"}, {`\n`, "\n"}, {"\r\n", "\n"}, {"\r", "\n"}} {
		data = bytes.ReplaceAll(data, []byte(r[0]), []byte(r[1]))
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSpace(l)
	}
	return bytes.Join(lines, []byte("\n"))
}

// decodePEM normalises data and returns its PEM blocks, refusing an input
// over maxPEMBytes, one without PEM blocks, a damaged block and a block type
// qsjwt does not read. want names what the caller expects, for the errors.
func decodePEM(data []byte, want string) ([]*pem.Block, error) {
	if len(data) > maxPEMBytes {
		return nil, keyError(nil, "the input is larger than %d bytes (1 MiB); expected %s, which is a few KiB", maxPEMBytes, want)
	}
	data = normalisePEM(data)
	var blocks []*pem.Block
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	switch {
	case bytes.Count(data, []byte("-----BEGIN ")) > len(blocks):
		return nil, keyError(errMalformedKey, "a PEM block is damaged: a -----BEGIN line without its -----END line, or bad base64 between them; expected %s", want)
	case len(blocks) == 0 && len(data) == 0:
		return nil, keyError(errNoPEM, "the input is empty; expected %s", want)
	case len(blocks) == 0 && len(data) > 1 && data[0] == 0x30 && data[1] >= 0x80:
		return nil, keyError(errNoPEM, "the input looks like binary DER; expected %s in PEM form (convert with `openssl pkey -inform DER` or `openssl x509 -inform DER`)", want)
	case len(blocks) == 0 && bytes.HasPrefix(data, []byte("MII")):
		return nil, keyError(errNoPEM, "the input looks like base64 without its -----BEGIN and -----END lines; expected %s with them", want)
	case len(blocks) == 0 && looksLikeFileName(data):
		return nil, keyError(errNoPEM, "the input looks like a file name, not the file's contents; expected %s (read the file first, or use SignerFromPEMFile)", want)
	case len(blocks) == 0:
		return nil, keyError(errNoPEM, "no -----BEGIN ...----- line found; expected %s", want)
	}
	for _, b := range blocks {
		if pemKindOf(b.Type) == pemUnknown {
			return nil, keyError(ErrUnsupportedKey, "a %q PEM block cannot be read; expected %s%s", b.Type, want, pemHint(b.Type))
		}
	}
	return blocks, nil
}

// looksLikeFileName reports whether data is one short line ending in a key
// or certificate file's extension.
func looksLikeFileName(data []byte) bool {
	if len(data) > 4096 || bytes.ContainsAny(data, "\n") {
		return false
	}
	ext := strings.ToLower(filepath.Ext(string(data)))
	return slices.Contains([]string{".pem", ".key", ".cer", ".crt", ".der", ".pfx", ".p12", ".jwk", ".json"}, ext)
}
