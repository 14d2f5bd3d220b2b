package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/controlplane/observe"
	"github.com/duckfleet/duckfleet/controlplane/push"
	"github.com/duckfleet/duckfleet/controlplane/scheduler"
	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/token"
	"github.com/google/go-cmp/cmp"
)

const (
	adminTok = "dfa_test-admin"
	joinTok  = "dfj_test-join"
)

type noBackups struct{}

func (noBackups) Kick()                                                  {}
func (noBackups) Observe(context.Context, string, []api.JobStatus) error { return nil }
func (noBackups) Delete(context.Context, store.Backup) error             { return nil }

type noPush struct{}

func (noPush) PushConfig(context.Context, string, api.NodeConfig) error { return nil }

type fixture struct {
	t      *testing.T
	srv    *httptest.Server
	store  *store.Store
	loop   *scheduler.Loop
	pusher *push.Pusher
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "cp.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tracker := observe.NewTracker(time.Minute)
	p := push.New(noPush{}, log, 1, push.Backoff{Initial: time.Millisecond, Max: time.Millisecond})
	loop := scheduler.NewLoop(st, tracker, nil, p, log, time.Hour)
	h, err := New(t.Context(), Config{
		Store: st, Tracker: tracker, Scheduler: loop, Desired: p, Log: log,
		AdminTokenHash: token.Hash(adminTok), JoinTokenHash: token.Hash(joinTok), HeartbeatInterval: time.Second,
		DefaultStorageURL: "file:///tmp/default", Backups: noBackups{}, Sealer: testSealer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Router())
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, store: st, loop: loop, pusher: p}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) problem(t *testing.T) api.Problem {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("answer %d is not a problem document: %s", a.status, a.body)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, api.ProblemContentType) {
		t.Errorf("Content-Type = %q, want %s", ct, api.ProblemContentType)
	}
	return p
}

func (f *fixture) call(method, path, tok, body string, headers ...string) answer {
	f.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(f.t.Context(), method, f.srv.URL+path, r)
	if err != nil {
		f.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestClusterValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name      string
		body      string
		wantField string
		wantMsg   string
	}{
		{"unknown field", `{"name":"a","spec":{"memory":"1GB"}}`, "memory", "is not a known field"},
		{"bad name", `{"name":"Not OK"}`, "name", "is not a valid name"},
		{"size lots", `{"name":"a","spec":{"memory_limit":"lots"}}`, "spec.memory_limit", "is not a size"},
		{"negative size", `{"name":"a","spec":{"memory_limit":"-1GB"}}`, "spec.memory_limit", "negative"},
		{"parsecs", `{"name":"a","spec":{"memory_limit":"12 parsecs"}}`, "spec.memory_limit", "unknown unit"},
		{"negative threads", `{"name":"a","spec":{"threads":-4}}`, "spec.threads", "out of range"},
		{"threads as string", `{"name":"a","spec":{"threads":"four"}}`, "spec.threads", "must be an integer"},
		{"not json", `{"name":`, "body", "not valid JSON"},
		{"empty", ``, "body", "is required"},
		{"trailing", `{"name":"a"} {}`, "body", "unexpected data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.call("POST", "/v1/clusters", adminTok, tt.body)
			if a.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", a.status, a.body)
			}
			p := a.problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != tt.wantField || !strings.Contains(p.Errors[0].Message, tt.wantMsg) {
				t.Errorf("errors = %+v, want field %q with %q", p.Errors, tt.wantField, tt.wantMsg)
			}
		})
	}
	if cls, _ := f.store.ListClusters(t.Context()); len(cls) != 0 {
		t.Errorf("rejected requests stored clusters: %+v", cls)
	}
}

func TestClusterCRUD(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.call("POST", "/v1/clusters", adminTok, `{"name":"a","spec":{"memory_limit":"0.5gib","threads":3}}`)
	if a.status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	var c api.Cluster
	if err := json.Unmarshal(a.body, &c); err != nil {
		t.Fatal(err)
	}
	want := api.ClusterSpec{Pool: "default", MemoryLimit: "512MiB", Threads: 3, StorageURL: "file:///tmp/default"}
	if d := cmp.Diff(want, c.Spec); d != "" {
		t.Errorf("canonical spec (-want +got):\n%s", d)
	}
	if c.Generation != 1 || a.header.Get("ETag") != `"1"` || c.Status.Phase != api.PhasePending {
		t.Errorf("created cluster: generation %d, ETag %q, phase %q", c.Generation, a.header.Get("ETag"), c.Status.Phase)
	}
	if a := f.call("POST", "/v1/clusters", adminTok, `{"name":"a"}`); a.status != http.StatusConflict {
		t.Errorf("duplicate create: %d", a.status)
	}
	a = f.call("PUT", "/v1/clusters/a", adminTok, `{"spec":{"memory_limit":"1GiB","threads":3}}`, "If-Match", `"1"`)
	if a.status != http.StatusOK || a.header.Get("ETag") != `"2"` {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	a = f.call("PUT", "/v1/clusters/a", adminTok, `{"spec":{"memory_limit":"2GiB"}}`, "If-Match", `"1"`)
	if a.status != http.StatusPreconditionFailed || !strings.Contains(a.problem(t).Detail, "generation 2 but If-Match was 1") {
		t.Errorf("stale update: %d %s", a.status, a.body)
	}
	a = f.call("PUT", "/v1/clusters/a", adminTok, `{"spec":{"pool":"other"}}`)
	if a.status != http.StatusBadRequest || a.problem(t).Errors[0].Field != "spec.pool" {
		t.Errorf("pool change: %d %s", a.status, a.body)
	}
	if a := f.call("PUT", "/v1/clusters/a", adminTok, `{"spec":{}}`, "If-Match", "x"); a.status != http.StatusBadRequest {
		t.Errorf("bad If-Match: %d", a.status)
	}
	if got, _ := f.store.GetCluster(t.Context(), "a"); got.Spec.MemoryLimit != "1GiB" || got.Generation != 2 {
		t.Errorf("stored after rejected updates: %+v", got)
	}
	if a := f.call("GET", "/v1/clusters", adminTok, ""); a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"name":"a"`)) {
		t.Errorf("list: %d %s", a.status, a.body)
	}
	if a := f.call("DELETE", "/v1/clusters/a", adminTok, "", "If-Match", `"1"`); a.status != http.StatusPreconditionFailed {
		t.Errorf("stale delete: %d", a.status)
	}
	if a := f.call("DELETE", "/v1/clusters/a", adminTok, "", "If-Match", `"2"`); a.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", a.status, a.body)
	}
	if a := f.call("GET", "/v1/clusters/a", adminTok, ""); a.status != http.StatusNotFound {
		t.Errorf("get after delete: %d", a.status)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		method, path, tok string
		want              int
	}{
		{"GET", "/v1/clusters", "", 401},
		{"GET", "/v1/clusters", "wrong", 401},
		{"GET", "/v1/clusters", joinTok, 401},
		{"GET", "/v1/clusters", adminTok, 200},
		{"POST", "/v1/agent/register", adminTok, 401},
		{"POST", "/v1/agent/heartbeat", adminTok, 401},
		{"GET", "/v1/agent/config", joinTok, 401},
		{"GET", "/healthz", "", 200},
		{"GET", "/readyz", "", 200},
		{"GET", "/metrics", "", 200},
	}
	for _, tt := range tests {
		a := f.call(tt.method, tt.path, tt.tok, "")
		if a.status != tt.want {
			t.Errorf("%s %s with %q: %d, want %d", tt.method, tt.path, tt.tok, a.status, tt.want)
		}
		if a.status == 401 && bytes.Contains(a.body, []byte(adminTok)) {
			t.Errorf("401 answer echoes a token: %s", a.body)
		}
	}
}

func TestAgentFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.call("POST", "/v1/agent/register", joinTok, `{"pool":"default","endpoint":"http://127.0.0.1:9"}`)
	if a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.body)
	}
	var reg api.RegisterResponse
	_ = json.Unmarshal(a.body, &reg)
	if !strings.HasPrefix(reg.Credential, token.PrefixNode) || reg.NodeID == "" {
		t.Fatalf("register answer: %+v", reg)
	}
	n, _ := f.store.GetNode(t.Context(), reg.NodeID)
	if n.CredentialHash != token.Hash(reg.Credential) || strings.Contains(n.CredentialHash, reg.Credential) {
		t.Errorf("stored credential is not the hash of the issued one")
	}
	hb := `{"endpoint":"http://127.0.0.1:9","healthy":true,"running":{"assignment":0,"generation":0}}`
	if a := f.call("POST", "/v1/agent/heartbeat", reg.Credential, hb); a.status != http.StatusOK {
		t.Fatalf("heartbeat: %d %s", a.status, a.body)
	}
	if a := f.call("POST", "/v1/clusters", adminTok, `{"name":"a"}`); a.status != http.StatusCreated {
		t.Fatalf("create: %d", a.status)
	}
	if err := f.loop.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	a = f.call("POST", "/v1/agent/heartbeat", reg.Credential, hb)
	var hbr api.HeartbeatResponse
	_ = json.Unmarshal(a.body, &hbr)
	if hbr.Desired != (api.Revision{Assignment: 1, Generation: 1}) || hbr.IntervalMillis != 1000 {
		t.Errorf("heartbeat answer after placement = %+v", hbr)
	}
	a = f.call("GET", "/v1/agent/config", reg.Credential, "")
	var cfg api.NodeConfig
	_ = json.Unmarshal(a.body, &cfg)
	want := api.NodeConfig{NodeID: reg.NodeID, Cluster: "a", Role: api.RolePrimary, Revision: hbr.Desired, Settings: api.Settings{MemoryLimit: "1GiB", Threads: 2}, StorageURL: "file:///tmp/default", StoragePrefix: "clusters/a",
		Access: api.AccessConfig{Roles: []api.RoleConfig{}, Users: []api.UserConfig{}}}
	if d := cmp.Diff(want, cfg); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	hb2 := `{"endpoint":"http://127.0.0.1:9","cluster":"a","role":"primary","healthy":true,"running":{"assignment":1,"generation":1},"settings":{"memory_limit":"1.0 GiB","threads":2}}`
	f.call("POST", "/v1/agent/heartbeat", reg.Credential, hb2)
	a = f.call("GET", "/v1/clusters/a", adminTok, "")
	var c api.Cluster
	_ = json.Unmarshal(a.body, &c)
	if c.Status.Phase != api.PhaseReady || c.Status.PrimaryEndpoint != "http://127.0.0.1:9" || len(c.Status.Nodes) != 1 || c.Status.Nodes[0].MemoryLimit != "1.0 GiB" {
		t.Errorf("cluster status = %+v", c.Status)
	}
	if a := f.call("POST", "/v1/agent/heartbeat", reg.Credential, `{"endpoint":"ftp://x"}`); a.status != 400 {
		t.Errorf("bad heartbeat: %d", a.status)
	}
	a = f.call("GET", "/v1/nodes?pool=default", adminTok, "")
	if a.status != 200 || bytes.Contains(a.body, []byte(reg.Credential)) || bytes.Contains(a.body, []byte(n.CredentialHash)) {
		t.Errorf("node list leaks credentials or failed: %d %s", a.status, a.body)
	}
}

func (f *fixture) routes() []struct{ Method, Path string } {
	h, err := New(f.t.Context(), Config{Store: f.store, Tracker: observe.NewTracker(time.Second), Scheduler: f.loop, Desired: f.pusher, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []struct{ Method, Path string }
	for _, r := range h.Router().Routes() {
		out = append(out, struct{ Method, Path string }{r.Method, r.Path})
	}
	return out
}

func TestRolesAndUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if a := f.call("POST", "/v1/clusters/a/roles", adminTok, `{"name":"r","spec":{"privileges":["select"]}}`); a.status != http.StatusNotFound {
		t.Errorf("role in a missing cluster: %d %s", a.status, a.body)
	}
	f.call("POST", "/v1/clusters", adminTok, `{"name":"a"}`)
	a := f.call("POST", "/v1/clusters/a/roles", adminTok, `{"name":"reader","spec":{"privileges":["select","Select"],"query_timeout":"60s"}}`)
	var role api.Role
	_ = json.Unmarshal(a.body, &role)
	if a.status != http.StatusCreated || !cmp.Equal(role.Spec.Privileges, []string{"SELECT"}) || role.Spec.QueryTimeout != "1m" || role.Status.AccessGeneration != 1 {
		t.Fatalf("create role: %d %+v", a.status, role)
	}
	a = f.call("POST", "/v1/clusters/a/roles", adminTok, `{"name":"bad","spec":{"privileges":["ATTACH"]}}`)
	if a.status != http.StatusBadRequest || a.problem(t).Errors[0].Field != "spec.privileges[0]" {
		t.Errorf("bad privilege: %d %s", a.status, a.body)
	}
	a = f.call("POST", "/v1/clusters/a/users", adminTok, `{"name":"ann","spec":{"roles":["writer"]}}`)
	if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), `role \"writer\" does not exist`) {
		t.Errorf("user with a missing role: %d %s", a.status, a.body)
	}
	a = f.call("POST", "/v1/clusters/a/users", adminTok, `{"name":"ann","spec":{"roles":["reader"]}}`)
	var user api.User
	_ = json.Unmarshal(a.body, &user)
	if a.status != http.StatusCreated || !strings.HasPrefix(user.Token, token.PrefixUser) {
		t.Fatalf("create user: %d %s", a.status, a.body)
	}
	for _, path := range []string{"/v1/clusters/a/users/ann", "/v1/clusters/a/users"} {
		if a := f.call("GET", path, adminTok, ""); bytes.Contains(a.body, []byte(user.Token)) || bytes.Contains(a.body, []byte(token.Hash(user.Token))) || bytes.Contains(a.body, []byte(`"token"`)) {
			t.Errorf("GET %s shows the token or its hash: %s", path, a.body)
		}
	}
	a = f.call("POST", "/v1/clusters/a/users/ann/rotate-token", adminTok, "")
	var rotated api.User
	_ = json.Unmarshal(a.body, &rotated)
	if a.status != http.StatusOK || rotated.Token == "" || rotated.Token == user.Token || rotated.Status.AccessGeneration != 3 {
		t.Errorf("rotate: %d %+v", a.status, rotated)
	}
	stored, _ := f.store.GetAccess(t.Context(), "a", store.KindUser, "ann")
	if stored.SecretHash != token.Hash(rotated.Token) {
		t.Error("the store does not hold the rotated token's hash")
	}
	if a := f.call("DELETE", "/v1/clusters/a/roles/reader", adminTok, "", "If-Match", `"1"`); a.status != http.StatusOK {
		t.Errorf("delete role: %d %s", a.status, a.body)
	}
}

type testSealer struct{}

func (testSealer) Seal(_ context.Context, p string) (string, error) {
	return "sealed:" + strings.Repeat("*", len(p)), nil
}

func TestPolicyKeyIsNeverServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.call("POST", "/v1/clusters", adminTok, `{"name":"a"}`)
	const key = "base64key://c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="
	a := f.call("POST", "/v1/clusters/a/backup-policies", adminTok, `{"name":"p","spec":{"schedule":"@daily","keep_last":1,"encryption_key_url":"`+key+`","encryption_key_version":3}}`)
	if a.status != http.StatusCreated || bytes.Contains(a.body, []byte("c2VjcmV0")) || !bytes.Contains(a.body, []byte(`"encrypted":true`)) {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	for _, path := range []string{"/v1/clusters/a/backup-policies/p", "/v1/clusters/a/backup-policies"} {
		if a := f.call("GET", path, adminTok, ""); bytes.Contains(a.body, []byte("c2VjcmV0")) || bytes.Contains(a.body, []byte("sealed")) {
			t.Errorf("GET %s shows the key: %s", path, a.body)
		}
	}
	stored, _ := f.store.GetAccess(t.Context(), "a", store.KindBackupPolicy, "p")
	if strings.Contains(stored.Spec, "c2VjcmV0") {
		t.Error("the store holds the keeper URL in the clear")
	}
	a = f.call("POST", "/v1/clusters/a/backup-policies", adminTok, `{"name":"q","spec":{"schedule":"@daily","keep_last":1,"encryption_key_url":"plainsecret"}}`)
	if a.status != http.StatusBadRequest || bytes.Contains(a.body, []byte("plainsecret")) {
		t.Errorf("a bad keeper URL: %d %s (must not quote it)", a.status, a.body)
	}
}
