package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, wantErr string
	}{
		{"file:///tmp/x", ""},
		{"s3://bucket?region=us-east-1", ""},
		{"ftp://host/x", `scheme "ftp"`},
		{"s3://user:pw@bucket", "carries credentials"},
		{"::", "does not parse"},
	}
	for _, tt := range tests {
		err := Validate(tt.url)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Validate(%q) = %v, want %q", tt.url, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("Validate(%q) leaks the password: %v", tt.url, err)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	got := Redact("s3://u:secret@b?region=x&secret_key=abc")
	if strings.Contains(got, "secret@") || strings.Contains(got, "abc") || !strings.Contains(got, "region=x") {
		t.Errorf("Redact = %q", got)
	}
}

func TestPresenceOnFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := Open(t.Context(), "file://"+dir+"?create_dir=true")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p := Presence{NodeID: "n1", Pool: "default", Endpoint: "http://x", StartedAt: time.Now().UTC()}
	if err := WritePresence(t.Context(), b, p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nodes", "n1", "agent.json")); err != nil {
		t.Errorf("presence object not on disk: %v", err)
	}
}
