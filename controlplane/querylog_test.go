package controlplane_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/duckfleet/duckfleet/internal/fleettest"
)

// TestQueryLog runs queries on a real agent and reads its log through the
// control plane: who ran what class, with which status, and never the SQL
// or a token.
func TestQueryLog(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	ctx := t.Context()
	c := f.Client(t)
	endpoint, tok := queryableCluster(t, f, api.ClusterCreate{Name: "logged", Spec: api.ClusterSpec{MemoryLimit: "256MiB", Threads: 1}})
	cl := waitReady(t, f, "logged", 1)
	if _, err := client.Query(ctx, nil, endpoint, tok, api.QueryRequest{SQL: "SELECT 'secret-literal'"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Query(ctx, nil, endpoint, tok, api.QueryRequest{SQL: "SELECT * FROM secret_table_name WHERE x = 'secret-literal'"}); client.StatusCode(err) == 0 {
		t.Fatal("a refused query succeeded")
	}
	log, err := getQueryLog(t, c, cl.Status.Nodes[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Entries) != 2 {
		t.Fatalf("query log has %d entries, want 2: %+v", len(log.Entries), log.Entries)
	}
	newest, oldest := log.Entries[0], log.Entries[1]
	if oldest.User != "w" || oldest.Class != "SELECT" || oldest.Status != http.StatusOK || oldest.Rows != 1 {
		t.Errorf("first query logged as %+v", oldest)
	}
	if newest.User != "w" || newest.Status != http.StatusBadRequest || newest.Error == "" {
		t.Errorf("refused query logged as %+v", newest)
	}
	for _, e := range log.Entries {
		if strings.Contains(e.Error, "secret-literal") || strings.Contains(e.Error, tok) || strings.Contains(e.Error, "LINE") {
			t.Errorf("the log holds SQL or a token: %+v", e)
		}
	}
	// The agent gives its log only to the control plane.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/v1/query-log", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a user read the agent's query log: %d", resp.StatusCode)
	}
}

func getQueryLog(t *testing.T, c *client.Client, node string) (api.QueryLog, error) {
	t.Helper()
	return c.NodeQueryLog(t.Context(), node, 100)
}
