// Package token makes and checks the bearer tokens of duckfleet. Tokens are
// 32 random bytes behind a prefix that says what they are for (so that secret
// scanners and people can tell them apart); only their SHA-256 hash is
// stored, and hashes are compared in constant time.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Prefixes of the kinds of token.
const (
	PrefixAdmin = "dfa_"
	PrefixJoin  = "dfj_"
	PrefixNode  = "dfn_"
	PrefixUser  = "dfu_"
)

// New returns a new random token with the given prefix.
func New(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the hex SHA-256 of a token. Tokens carry 256 random bits, so a
// plain cryptographic hash is enough: there is nothing to brute-force.
func Hash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// Matches reports, in constant time, whether tok hashes to hash.
func Matches(tok, hash string) bool {
	got := Hash(tok)
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// FromHeader returns the bearer token of an Authorization header value, or "".
func FromHeader(h string) string {
	const p = "Bearer "
	if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
		return strings.TrimSpace(h[len(p):])
	}
	return ""
}
