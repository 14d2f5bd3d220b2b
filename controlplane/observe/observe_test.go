package observe

import (
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

func TestTrackerHealth(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	tr := NewTracker(10 * time.Second)
	tr.now = func() time.Time { return now }

	if tr.Healthy("n1") {
		t.Error("a node never heard from is healthy")
	}
	if !tr.Record("n1", api.Observed{Healthy: true}) {
		t.Error("first heartbeat should report a health change")
	}
	if tr.Record("n1", api.Observed{Healthy: true}) {
		t.Error("a second healthy heartbeat should not report a change")
	}
	if !tr.Healthy("n1") {
		t.Error("node should be healthy right after a healthy heartbeat")
	}
	now = now.Add(11 * time.Second)
	if tr.Healthy("n1") {
		t.Error("node should be unhealthy after the timeout")
	}
	if !tr.Record("n1", api.Observed{Healthy: true}) {
		t.Error("a heartbeat after a silence should report a change")
	}
	if !tr.Record("n1", api.Observed{Healthy: false}) || tr.Healthy("n1") {
		t.Error("a node reporting itself unhealthy should be unhealthy")
	}
	tr.Forget("n1")
	if _, ok := tr.Get("n1"); ok {
		t.Error("Forget kept the node")
	}
}
