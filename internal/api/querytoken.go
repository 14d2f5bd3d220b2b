package api

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Short-lived query tokens are signed, not stored: the control plane signs
// (cluster, user, expiry) with the Ed25519 key that also signs config
// pushes, and every node verifies them with the public key it got at
// registration. A token is good until it expires and only while its user
// exists; deleting the user revokes it everywhere.

// QueryTokenPrefix starts every short-lived query token.
const QueryTokenPrefix = "dfq_"

// Bounds and default of a query token's time to live.
const (
	MinQueryTokenTTL     = 10 * time.Second
	MaxQueryTokenTTL     = 24 * time.Hour
	DefaultQueryTokenTTL = 15 * time.Minute
)

// QueryClaims are what a query token grants.
type QueryClaims struct {
	Cluster string `json:"c"`
	User    string `json:"u"`
	// Expires is in Unix seconds.
	Expires int64 `json:"exp"`
	// Nonce makes two tokens issued in the same second differ.
	Nonce string `json:"n"`
}

// QueryTokenRequest is the body of POST /v1/clusters/{c}/users/{u}/query-tokens.
type QueryTokenRequest struct {
	// TTL such as "15m"; empty means DefaultQueryTokenTTL.
	TTL string `json:"ttl,omitempty"`
}

// QueryToken is the answer: the token, once, and when it expires.
type QueryToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Normalize validates the request and returns the TTL.
func (r *QueryTokenRequest) Normalize() (time.Duration, error) {
	if r.TTL == "" {
		return DefaultQueryTokenTTL, nil
	}
	d, err := time.ParseDuration(r.TTL)
	if err != nil || d < MinQueryTokenTTL || d > MaxQueryTokenTTL {
		return 0, &ValidationError{Errors: []FieldError{{Field: "ttl", Message: "\"" + truncate(r.TTL) + "\" is not a duration from " +
			FormatDuration(MinQueryTokenTTL) + " to " + FormatDuration(MaxQueryTokenTTL) + ", such as \"15m\""}}}
	}
	return d, nil
}

const queryTokenDomain = "duckfleet-query-token\n"

// SignQueryToken makes a token for claims.
func SignQueryToken(key ed25519.PrivateKey, c QueryClaims) string {
	payload, _ := json.Marshal(c)
	enc := base64.RawURLEncoding.EncodeToString(payload)
	sig := ed25519.Sign(key, []byte(queryTokenDomain+enc))
	return QueryTokenPrefix + enc + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// ErrBadQueryToken is a query token that is malformed, forged or expired.
var ErrBadQueryToken = errors.New("the query token is malformed, not signed by this fleet's control plane, or expired")

// VerifyQueryToken checks a token's signature and expiry.
func VerifyQueryToken(pub ed25519.PublicKey, tok string, now time.Time) (QueryClaims, error) {
	var c QueryClaims
	rest, ok := strings.CutPrefix(tok, QueryTokenPrefix)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return c, ErrBadQueryToken
	}
	enc, sigEnc, ok := strings.Cut(rest, ".")
	if !ok {
		return c, ErrBadQueryToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigEnc)
	if err != nil || !ed25519.Verify(pub, []byte(queryTokenDomain+enc), sig) {
		return c, ErrBadQueryToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || json.Unmarshal(payload, &c) != nil || c.Cluster == "" || c.User == "" {
		return QueryClaims{}, ErrBadQueryToken
	}
	if now.Unix() >= c.Expires {
		return QueryClaims{}, ErrBadQueryToken
	}
	return c, nil
}
