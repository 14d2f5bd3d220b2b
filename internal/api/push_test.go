package api

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

func TestPushSignature(t *testing.T) {
	t.Parallel()
	pub, key, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"cluster":"a"}`)
	h := SignPush(key, "n1", now, body)
	if err := VerifyPush(pub, "n1", h, body, now.Add(time.Minute)); err != nil {
		t.Fatalf("VerifyPush of a good signature: %v", err)
	}
	tests := []struct {
		name, node, header string
		body               []byte
		pub                ed25519.PublicKey
		at                 time.Time
		want               string
	}{
		{"other node", "n2", h, body, pub, now, "does not verify"},
		{"changed body", "n1", h, []byte(`{"cluster":"b"}`), pub, now, "does not verify"},
		{"other key", "n1", h, body, otherPub, now, "does not verify"},
		{"too old", "n1", h, body, pub, now.Add(time.Hour), "away from this node's clock"},
		{"missing", "n1", "", body, pub, now, "missing"},
		{"garbage", "n1", "t=x,sig=y", body, pub, now, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifyPush(tt.pub, tt.node, tt.header, tt.body, tt.at)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("VerifyPush = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
