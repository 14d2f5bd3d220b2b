package push

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

// flakyAgent fails the first failures pushes, then records what it gets.
type flakyAgent struct {
	mu       sync.Mutex
	failures int
	got      []api.Revision
	done     chan api.Revision
}

func (f *flakyAgent) PushConfig(_ context.Context, _ string, cfg api.NodeConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return errors.New("connection refused")
	}
	f.got = append(f.got, cfg.Revision)
	f.done <- cfg.Revision
	return nil
}

func TestPusherRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	agent := &flakyAgent{failures: 3, done: make(chan api.Revision, 10)}
	p := New(agent, slog.New(slog.NewTextHandler(io.Discard, nil)), 2, Backoff{Initial: time.Millisecond, Max: 4 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go p.Run(ctx)

	rev := api.Revision{Assignment: 1, Generation: 1}
	p.Publish(map[string]Target{"n1": {Endpoint: "http://x", Config: api.NodeConfig{NodeID: "n1", Revision: rev}}})
	select {
	case got := <-agent.done:
		if got != rev {
			t.Fatalf("delivered %v, want %v", got, rev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("push was never delivered")
	}
	// Publishing the same target again does not push again.
	p.Publish(map[string]Target{"n1": {Endpoint: "http://x", Config: api.NodeConfig{NodeID: "n1", Revision: rev}}})
	rev2 := api.Revision{Assignment: 1, Generation: 2}
	p.Publish(map[string]Target{"n1": {Endpoint: "http://x", Config: api.NodeConfig{NodeID: "n1", Revision: rev2}}})
	if got := <-agent.done; got != rev2 {
		t.Fatalf("delivered %v, want %v", got, rev2)
	}
	if cfg, ok := p.Desired("n1"); !ok || cfg.Revision != rev2 {
		t.Errorf("Desired = %v, %v", cfg, ok)
	}
	agent.mu.Lock()
	defer agent.mu.Unlock()
	if len(agent.got) != 2 {
		t.Errorf("agent got %v, want exactly two pushes", agent.got)
	}
}

func TestPusherDelay(t *testing.T) {
	t.Parallel()
	p := &Pusher{backoff: Backoff{Initial: 100 * time.Millisecond, Max: time.Second}}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 9: time.Second} {
		if got := p.delay(attempt); got != want {
			t.Errorf("delay(%d) = %v, want %v", attempt, got, want)
		}
	}
}
