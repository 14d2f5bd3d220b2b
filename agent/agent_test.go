package agent

import (
	"io"
	"log/slog"
	"testing"

	"github.com/duckfleet/duckfleet/internal/api"
)

func newTestAgent(t *testing.T) *Agent {
	t.Helper()
	a, err := New(Config{ControlPlane: "http://127.0.0.1:1", DataDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.engine.Close() })
	return a
}

func TestApplyOrdersRevisions(t *testing.T) {
	t.Parallel()
	a := newTestAgent(t)
	ctx := t.Context()
	cfg := func(assign, gen int64, threads int) api.NodeConfig {
		return api.NodeConfig{NodeID: "n1", Cluster: "c", Role: api.RolePrimary, Revision: api.Revision{Assignment: assign, Generation: gen},
			Settings: api.Settings{MemoryLimit: "256MiB", Threads: threads}}
	}
	steps := []struct {
		name        string
		cfg         api.NodeConfig
		wantThreads int
		wantRunning api.Revision
	}{
		{"first", cfg(1, 1, 1), 1, api.Revision{Assignment: 1, Generation: 1}},
		{"newer generation", cfg(1, 2, 2), 2, api.Revision{Assignment: 1, Generation: 2}},
		{"older generation is ignored", cfg(1, 1, 3), 2, api.Revision{Assignment: 1, Generation: 2}},
		{"same revision is a no-op", cfg(1, 2, 4), 2, api.Revision{Assignment: 1, Generation: 2}},
		{"new assignment with a lower generation", cfg(2, 1, 1), 1, api.Revision{Assignment: 2, Generation: 1}},
	}
	for _, s := range steps {
		if err := a.Apply(ctx, s.cfg); err != nil {
			t.Fatalf("%s: Apply: %v", s.name, err)
		}
		o := a.observe(ctx, "http://x")
		if o.Running != s.wantRunning || o.Settings.Threads != s.wantThreads || !o.Healthy || o.Error != "" {
			t.Errorf("%s: observed %+v, want running %v with %d threads", s.name, o, s.wantRunning, s.wantThreads)
		}
	}
}

func TestApplyFailureIsReportedAndRetried(t *testing.T) {
	t.Parallel()
	a := newTestAgent(t)
	ctx := t.Context()
	bad := api.NodeConfig{Cluster: "c", Revision: api.Revision{Assignment: 1, Generation: 1}, Settings: api.Settings{MemoryLimit: "lots", Threads: 1}}
	if err := a.Apply(ctx, bad); err == nil {
		t.Fatal("Apply of a bad config succeeded")
	}
	o := a.observe(ctx, "http://x")
	if o.Error == "" || o.Running != (api.Revision{}) {
		t.Errorf("after a failed apply: %+v, want the error reported and the old revision running", o)
	}
	good := bad
	good.Revision.Generation = 2
	good.Settings.MemoryLimit = "256MiB"
	if err := a.Apply(ctx, good); err != nil {
		t.Fatal(err)
	}
	if o := a.observe(ctx, "http://x"); o.Error != "" || o.Running != good.Revision {
		t.Errorf("after a good apply: %+v", o)
	}
}
