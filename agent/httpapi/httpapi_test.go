package httpapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

type recordApplier struct{ got []api.NodeConfig }

func (r *recordApplier) Apply(_ context.Context, cfg api.NodeConfig) error {
	r.got = append(r.got, cfg)
	return nil
}

func TestPutConfigVerifiesSignature(t *testing.T) {
	t.Parallel()
	pub, key, _ := ed25519.GenerateKey(nil)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	rec := &recordApplier{}
	srv := httptest.NewServer(New(Config{NodeID: "n1", PushKey: pub, Applier: rec, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Router())
	defer srv.Close()

	body := func(node string) []byte {
		b, _ := json.Marshal(api.NodeConfig{NodeID: node, Cluster: "c", Revision: api.Revision{Assignment: 1, Generation: 1}})
		return b
	}
	tests := []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"unsigned", body("n1"), "", http.StatusUnauthorized},
		{"signed by another key", body("n1"), api.SignPush(otherKey, "n1", time.Now(), body("n1")), http.StatusUnauthorized},
		{"signature of another body", body("n1"), api.SignPush(key, "n1", time.Now(), []byte("{}")), http.StatusUnauthorized},
		{"for another node", body("n2"), api.SignPush(key, "n1", time.Now(), body("n2")), http.StatusConflict},
		{"good", body("n1"), api.SignPush(key, "n1", time.Now(), body("n1")), http.StatusOK},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/config", bytes.NewReader(tt.body))
		if tt.sig != "" {
			req.Header.Set(api.PushSignatureHeader, tt.sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if len(rec.got) != 1 {
		t.Errorf("applied %d configs, want only the good one", len(rec.got))
	}
}
