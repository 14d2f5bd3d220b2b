package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

// AgentCaller makes the control plane's signed calls to agents: config
// pushes and query-log reads.
type AgentCaller struct {
	http *http.Client
	key  ed25519.PrivateKey
}

// NewAgentCaller returns an AgentCaller that signs with key.
func NewAgentCaller(key ed25519.PrivateKey, h *http.Client) *AgentCaller {
	if h == nil {
		h = &http.Client{Timeout: 10 * time.Second}
	}
	return &AgentCaller{http: h, key: key}
}

// PushConfig sends cfg to the agent at endpoint.
func (p *AgentCaller) PushConfig(ctx context.Context, endpoint string, cfg api.NodeConfig) error {
	body, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, strings.TrimRight(endpoint, "/")+"/v1/config", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("push config to node %s: %w", cfg.NodeID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.PushSignatureHeader, api.SignPush(p.key, cfg.NodeID, time.Now(), body))
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("push config to node %s at %s: %w", cfg.NodeID, endpoint, err)
	}
	defer resp.Body.Close()
	return decodeAnswer(resp, nil)
}

// Query runs one statement on the agent at endpoint with a user token
// (POST /v1/query) and returns the whole result.
func Query(ctx context.Context, h *http.Client, endpoint, token string, in api.QueryRequest) (api.QueryResult, error) {
	var out api.QueryResult
	body, err := json.Marshal(in)
	if err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/v1/query", bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if h == nil {
		h = http.DefaultClient
	}
	resp, err := h.Do(req)
	if err != nil {
		return out, fmt.Errorf("query %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	return out, decodeAnswer(resp, &out)
}

// QueryLog reads the newest entries of a node's query log.
func (p *AgentCaller) QueryLog(ctx context.Context, endpoint, nodeID string, limit int) (api.QueryLog, error) {
	var out api.QueryLog
	path := "/v1/query-log?limit=" + strconv.Itoa(limit)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(endpoint, "/")+path, nil)
	if err != nil {
		return out, err
	}
	req.Header.Set(api.PushSignatureHeader, api.SignRequest(p.key, nodeID, "GET "+path, time.Now(), nil))
	resp, err := p.http.Do(req)
	if err != nil {
		return out, fmt.Errorf("read the query log of node %s at %s: %w", nodeID, endpoint, err)
	}
	defer resp.Body.Close()
	return out, decodeAnswer(resp, &out)
}
