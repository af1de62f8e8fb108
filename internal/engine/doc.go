// Package engine holds qsjwt's JWT hot paths and its use of jwx.
package engine
