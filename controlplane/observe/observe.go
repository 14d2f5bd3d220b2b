// Package observe keeps what agents report in their heartbeats. It lives in
// memory: observed state is rebuilt from the next round of heartbeats after
// a restart, and keeping it out of the store lets one control plane take
// thousands of heartbeats a second.
package observe

import (
	"sync"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

// Observation is a node's last heartbeat and when it arrived.
type Observation struct {
	api.Observed
	At time.Time
}

// Tracker records heartbeats and judges health. Safe for concurrent use.
type Tracker struct {
	timeout time.Duration
	now     func() time.Time

	mu    sync.RWMutex
	nodes map[string]Observation
}

// NewTracker returns a tracker that deems a node unhealthy when its last
// heartbeat is older than timeout or reported it unhealthy.
func NewTracker(timeout time.Duration) *Tracker {
	return &Tracker{timeout: timeout, now: time.Now, nodes: make(map[string]Observation)}
}

// Record stores a heartbeat and reports whether the node's health changed.
func (t *Tracker) Record(id string, o api.Observed) (healthChanged bool) {
	now := t.now()
	t.mu.Lock()
	prev, seen := t.nodes[id]
	t.nodes[id] = Observation{Observed: o, At: now}
	t.mu.Unlock()
	return !seen || t.healthyAt(prev, now) != o.Healthy
}

// Get returns the node's last observation, if any.
func (t *Tracker) Get(id string) (Observation, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	o, ok := t.nodes[id]
	return o, ok
}

// Healthy reports whether the node heartbeated recently and said it is healthy.
func (t *Tracker) Healthy(id string) bool {
	o, ok := t.Get(id)
	return ok && t.healthyAt(o, t.now())
}

// Forget drops a node's observations.
func (t *Tracker) Forget(id string) {
	t.mu.Lock()
	delete(t.nodes, id)
	t.mu.Unlock()
}

func (t *Tracker) healthyAt(o Observation, now time.Time) bool {
	return o.Healthy && now.Sub(o.At) <= t.timeout
}
