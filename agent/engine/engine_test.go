package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckfleet/duckfleet/internal/api"
)

func TestApplySettingsAndRelease(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e, err := New(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := t.Context()
	if _, err := e.Effective(ctx); err != ErrNoDatabase {
		t.Errorf("Effective before Apply = %v, want ErrNoDatabase", err)
	}
	if err := e.Apply(ctx, "a", api.Settings{MemoryLimit: "512MiB", Threads: 2}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got, err := e.Effective(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.MemoryLimit != "512.0 MiB" || got.Threads != 2 {
		t.Errorf("effective = %+v, want 512.0 MiB and 2 threads", got)
	}
	// A user could not change the settings: the configuration is locked.
	e.mu.RLock()
	_, err = e.db.ExecContext(ctx, "SET threads = 1")
	e.mu.RUnlock()
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "lock") {
		t.Errorf("SET threads on a locked database: %v", err)
	}
	if err := e.Apply(ctx, "a", api.Settings{MemoryLimit: "1GiB", Threads: 1}); err != nil {
		t.Fatalf("re-Apply: %v", err)
	}
	if got, _ := e.Effective(ctx); got.MemoryLimit != "1.0 GiB" || got.Threads != 1 {
		t.Errorf("effective after reopen = %+v", got)
	}
	if err := e.Apply(ctx, "", api.Settings{}); err != nil {
		t.Fatalf("release: %v", err)
	}
	if _, err := os.Stat(e.Path("a")); !os.IsNotExist(err) {
		t.Errorf("database file still there after release: %v", err)
	}
}

func TestApplyRejectsBadSettings(t *testing.T) {
	t.Parallel()
	e, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(t.Context(), "a", api.Settings{MemoryLimit: "lots", Threads: 1}); err == nil || !strings.Contains(err.Error(), "memory_limit") {
		t.Errorf("Apply with a bad size = %v", err)
	}
}

// TestStalePrivateDirIsRemoved checks that an engine removes the spill and
// spool dir an earlier, killed engine of the same data dir left behind.
func TestStalePrivateDirIsRemoved(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "db")
	first, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	stale := first.private // as if the process had been killed: no Close
	second, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	first.parser.close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale private dir %s is still there: %v", stale, err)
	}
	if _, err := os.Stat(second.spool); err != nil {
		t.Errorf("the new engine has no spool: %v", err)
	}
}
