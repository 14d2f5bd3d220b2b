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

func TestFileDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"file:///var/b", "file:///var/b?metadata=skip&no_tmp_dir=true"},
		{"file:///var/b?create_dir=true&metadata=sidecar", "file:///var/b?create_dir=true&metadata=sidecar&no_tmp_dir=true"},
		{"s3://bucket?region=x", "s3://bucket?region=x"},
	}
	for _, tt := range tests {
		if got := withFileDefaults(tt.in); got != tt.want {
			t.Errorf("withFileDefaults(%q) = %q, want %q", tt.in, got, tt.want)
		}
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
	if left, _ := filepath.Glob(filepath.Join(dir, "nodes", "n1", "*.*.*")); len(left) > 0 {
		t.Errorf("sidecar or temporary files beside the object: %v", left)
	}
}
