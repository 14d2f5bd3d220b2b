package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"

	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/token"
	"github.com/gin-gonic/gin"
)

func (h *Handler) register(c *gin.Context) {
	var in api.RegisterRequest
	if !decode(c, &in) {
		return
	}
	if err := in.Normalize(); err != nil {
		invalid(c, err)
		return
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	cred := token.New(token.PrefixNode)
	n, err := h.cfg.Store.CreateNode(c, store.Node{
		ID: "node-" + hex.EncodeToString(b), Pool: in.Pool, Endpoint: in.Endpoint, CredentialHash: token.Hash(cred),
	})
	if err != nil {
		h.storeError(c, "node", err)
		return
	}
	h.mu.Lock()
	h.byCred[n.CredentialHash] = n.ID
	h.nodes[n.ID] = nodeInfo{pool: n.Pool, endpoint: n.Endpoint}
	h.mu.Unlock()
	h.metrics.registrations.Inc()
	h.cfg.Log.Info("node registered", "node", n.ID, "pool", n.Pool, "endpoint", n.Endpoint)
	h.cfg.Scheduler.Kick()
	c.JSON(http.StatusCreated, api.RegisterResponse{
		NodeID: n.ID, Credential: cred, PushKey: base64.StdEncoding.EncodeToString(h.cfg.PushKey),
	})
}

func (h *Handler) heartbeat(c *gin.Context) {
	id := c.GetString(nodeIDKey)
	var in api.HeartbeatRequest
	if !decode(c, &in) {
		return
	}
	if err := in.Normalize(); err != nil {
		invalid(c, err)
		return
	}
	h.mu.RLock()
	info := h.nodes[id]
	h.mu.RUnlock()
	if info.endpoint != in.Endpoint {
		if err := h.cfg.Store.SetNodeEndpoint(c, id, in.Endpoint); err != nil {
			h.storeError(c, "node "+id, err)
			return
		}
		h.mu.Lock()
		info.endpoint = in.Endpoint
		h.nodes[id] = info
		h.mu.Unlock()
		h.cfg.Log.Info("node endpoint changed", "node", id, "endpoint", in.Endpoint)
		h.cfg.Scheduler.Kick()
	}
	if h.cfg.Tracker.Record(id, in) {
		h.cfg.Scheduler.Kick()
	}
	h.cfg.Desired.Observed(id, in.Running)
	if h.cfg.Backups != nil {
		if err := h.cfg.Backups.Observe(c, id, in.Jobs); err != nil {
			h.cfg.Log.Error("could not record backup progress", "node", id, "err", err)
		}
	}
	h.metrics.heartbeats.Inc()
	desired := in.Running
	if cfg, ok := h.cfg.Desired.Desired(id); ok {
		desired = cfg.Revision
	}
	c.JSON(http.StatusOK, api.HeartbeatResponse{Desired: desired, IntervalMillis: h.cfg.HeartbeatInterval.Milliseconds()})
}

func (h *Handler) agentConfig(c *gin.Context) {
	id := c.GetString(nodeIDKey)
	cfg, ok := h.cfg.Desired.Desired(id)
	if !ok {
		problem(c, http.StatusServiceUnavailable, "Service Unavailable", "the control plane has not computed this node's config yet; retry shortly")
		return
	}
	c.JSON(http.StatusOK, cfg)
}
