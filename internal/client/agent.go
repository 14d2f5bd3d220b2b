package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

// AgentCaller makes the control plane's signed calls to agents: config
// pushes, backup jobs and query-log reads.
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

// call sends a signed request to the agent of nodeID at endpoint.
func (p *AgentCaller) call(ctx context.Context, method, endpoint, path, nodeID string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("call node %s: %w", nodeID, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(api.PushSignatureHeader, api.SignRequest(p.key, nodeID, method+" "+path, time.Now(), body))
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("call node %s at %s: %w", nodeID, endpoint, err)
	}
	defer resp.Body.Close()
	return decodeAnswer(resp, out)
}

// PushConfig sends cfg to the agent at endpoint.
func (p *AgentCaller) PushConfig(ctx context.Context, endpoint string, cfg api.NodeConfig) error {
	return p.call(ctx, http.MethodPut, endpoint, "/v1/config", cfg.NodeID, cfg, nil)
}

// QueryLog reads the newest entries of a node's query log.
func (p *AgentCaller) QueryLog(ctx context.Context, endpoint, nodeID string, limit int) (api.QueryLog, error) {
	var out api.QueryLog
	err := p.call(ctx, http.MethodGet, endpoint, "/v1/query-log?limit="+strconv.Itoa(limit), nodeID, nil, &out)
	return out, err
}

// StartBackup asks a node to take a backup; it answers once the job runs.
func (p *AgentCaller) StartBackup(ctx context.Context, endpoint, nodeID string, job api.BackupJob) error {
	return p.call(ctx, http.MethodPost, endpoint, "/v1/backups", nodeID, job, nil)
}

// DeleteBackup asks a node to delete a backup's objects from storage.
func (p *AgentCaller) DeleteBackup(ctx context.Context, endpoint, nodeID string, job api.BackupJob) error {
	return p.call(ctx, http.MethodDelete, endpoint, "/v1/backups/"+url.PathEscape(job.ID), nodeID, job, nil)
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
