package pkcs11

import (
	"errors"
	"fmt"
	"sync"

	ck "github.com/miekg/pkcs11"
)

// A PKCS #11 library is initialised once per process, however many keys use
// it: module is that one library, shared by the keys opened from the same
// path and counted so that the last Close finalises it.
type module struct {
	path string

	mu   sync.Mutex
	ctx  *ck.Ctx
	gen  uint64 // bumped on every (re)initialisation: sessions and handles of older generations are gone
	refs int
	owns bool // we called C_Initialize, so we call C_Finalize
}

var modules = struct {
	sync.Mutex
	byPath map[string]*module
}{byPath: map[string]*module{}}

// openModule loads and initialises the library at path, or shares the one
// already loaded.
func openModule(path string) (*module, error) {
	modules.Lock()
	defer modules.Unlock()
	if m, ok := modules.byPath[path]; ok {
		m.mu.Lock()
		m.refs++
		m.mu.Unlock()
		return m, nil
	}
	c := ck.New(path)
	if c == nil {
		return nil, fmt.Errorf("%w: cannot load the PKCS #11 module %s (module-path): no such file, or not a PKCS #11 library for this platform", ErrModule, path)
	}
	m := &module{path: path, ctx: c, refs: 1}
	if err := m.initialize(); err != nil {
		c.Destroy()
		return nil, err
	}
	modules.byPath[path] = m
	return m, nil
}

// initialize calls C_Initialize; m.mu is held or m is not shared yet.
func (m *module) initialize() error {
	err := m.ctx.Initialize()
	switch {
	case err == nil:
		m.owns = true
	case errors.Is(err, ck.Error(ck.CKR_CRYPTOKI_ALREADY_INITIALIZED)):
		// Another part of this process initialised it; it finalises it too.
	default:
		return fmt.Errorf("%w: initialising %s: %w", ErrModule, m.path, err)
	}
	m.gen++
	return nil
}

// current returns the library and its generation.
func (m *module) current() (*ck.Ctx, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ctx, m.gen
}

// reinitialize brings the library back after CKR_CRYPTOKI_NOT_INITIALIZED
// (someone finalised it) or a device error (finalise first, which makes
// many libraries look for their token again). It does nothing when another
// key already did it since generation gen.
func (m *module) reinitialize(gen uint64, finalize bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen != gen {
		return nil
	}
	if finalize {
		_ = m.ctx.Finalize() // best effort: the device may be gone
	}
	return m.initialize()
}

// release drops one reference; the last one finalises and unloads.
func (m *module) release() {
	modules.Lock()
	defer modules.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	delete(modules.byPath, m.path)
	if m.owns {
		_ = m.ctx.Finalize()
	}
	m.ctx.Destroy()
}
