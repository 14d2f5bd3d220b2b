package api

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

func TestQueryToken(t *testing.T) {
	t.Parallel()
	pub, key, _ := ed25519.GenerateKey(nil)
	otherPub, otherKey, _ := ed25519.GenerateKey(nil)
	now := time.Unix(1_800_000_000, 0)
	claims := QueryClaims{Cluster: "c", User: "u", Expires: now.Add(time.Minute).Unix(), Nonce: "x"}
	tok := SignQueryToken(key, claims)
	if got, err := VerifyQueryToken(pub, tok, now); err != nil || got != claims {
		t.Fatalf("VerifyQueryToken = %+v, %v", got, err)
	}
	forgedClaims := claims
	forgedClaims.User = "admin"
	tampered := SignQueryToken(otherKey, forgedClaims)
	enc := strings.Split(strings.TrimPrefix(tampered, QueryTokenPrefix), ".")[0]
	spliced := QueryTokenPrefix + enc + "." + strings.Split(tok, ".")[1]
	for name, tt := range map[string]struct {
		pub ed25519.PublicKey
		tok string
		at  time.Time
	}{
		"expired":           {pub, tok, now.Add(time.Minute)},
		"other key":         {otherPub, tok, now},
		"forged by another": {pub, tampered, now},
		"spliced signature": {pub, spliced, now},
		"garbage":           {pub, "dfq_x.y", now},
		"user token":        {pub, "dfu_abc", now},
	} {
		if _, err := VerifyQueryToken(tt.pub, tt.tok, tt.at); err != ErrBadQueryToken {
			t.Errorf("%s: %v, want ErrBadQueryToken", name, err)
		}
	}
	for ttl, ok := range map[string]bool{"": true, "15m": true, "5s": false, "48h": false, "soon": false} {
		r := QueryTokenRequest{TTL: ttl}
		if _, err := r.Normalize(); (err == nil) != ok {
			t.Errorf("ttl %q: %v", ttl, err)
		}
	}
}
