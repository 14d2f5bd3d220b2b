package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/observe"
	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
)

// NodeView is a node of a cluster with its last heartbeat, if any.
type NodeView struct {
	store.Node
	Observation *observe.Observation
	Healthy     bool
}

// ObservedGeneration is the cluster generation the node runs, or 0 when it
// does not run its current assignment yet.
func (n NodeView) ObservedGeneration() int64 {
	o := n.Observation
	if o == nil || o.Cluster != n.Cluster || o.Running.Assignment != n.Assignment {
		return 0
	}
	return o.Running.Generation
}

// ObservedAccess is the access generation the node enforces, or 0.
func (n NodeView) ObservedAccess() int64 {
	if n.ObservedGeneration() == 0 {
		return 0
	}
	return n.Observation.Running.Access
}

// Status derives a cluster's status from its nodes and its pending reason.
func Status(c store.Cluster, nodes []NodeView, pending string, now time.Time) api.ClusterStatus {
	st := api.ClusterStatus{Nodes: []api.ClusterNode{}, AccessGeneration: c.AccessGeneration}
	var unhealthy, failed, lagging []string
	for _, n := range nodes {
		cn := api.ClusterNode{
			ID: n.ID, Endpoint: n.Endpoint, Role: n.Role, Healthy: n.Healthy,
			ObservedGeneration: n.ObservedGeneration(), ObservedAccessGeneration: n.ObservedAccess(),
		}
		if o := n.Observation; o != nil {
			cn.MemoryLimit, cn.Threads, cn.Error = o.Settings.MemoryLimit, o.Settings.Threads, o.Error
		}
		if n.Role == api.RolePrimary {
			st.PrimaryEndpoint = n.Endpoint
		}
		switch {
		case !n.Healthy:
			unhealthy = append(unhealthy, describeUnhealthy(n, now))
		case cn.Error != "":
			failed = append(failed, fmt.Sprintf("node %s failed to apply its config: %s", n.ID, cn.Error))
		case cn.ObservedGeneration < c.Generation:
			lagging = append(lagging, fmt.Sprintf("node %s runs generation %d", n.ID, cn.ObservedGeneration))
		case cn.ObservedAccessGeneration < c.AccessGeneration:
			lagging = append(lagging, fmt.Sprintf("node %s enforces access generation %d of %d", n.ID, cn.ObservedAccessGeneration, c.AccessGeneration))
		}
		st.Nodes = append(st.Nodes, cn)
	}
	switch {
	case pending != "":
		st.Phase, st.Message = api.PhasePending, pending
	case len(nodes) == 0:
		st.Phase, st.Message = api.PhasePending, "waiting for the scheduler to place the cluster"
	case len(unhealthy)+len(failed) > 0:
		st.Phase, st.Message = api.PhaseDegraded, strings.Join(append(unhealthy, failed...), "; ")
	case len(lagging) > 0:
		st.Phase = api.PhaseConverging
		st.Message = fmt.Sprintf("waiting for generation %d: %s", c.Generation, strings.Join(lagging, "; "))
	default:
		st.Phase = api.PhaseReady
	}
	return st
}

func describeUnhealthy(n NodeView, now time.Time) string {
	o := n.Observation
	switch {
	case o == nil:
		return fmt.Sprintf("node %s has not sent a heartbeat since the control plane started", n.ID)
	case !o.Healthy && o.Error != "":
		return fmt.Sprintf("node %s reports itself unhealthy: %s", n.ID, o.Error)
	case !o.Healthy:
		return fmt.Sprintf("node %s reports itself unhealthy", n.ID)
	default:
		return fmt.Sprintf("node %s missed its heartbeats: the last was %s ago", n.ID, now.Sub(o.At).Round(time.Second))
	}
}
