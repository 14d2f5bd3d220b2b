package controlplane_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/controlplane"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
)

const (
	benchAdmin = "dfa_bench-admin"
	benchJoin  = "dfj_bench-join"
)

// startServer runs a real control plane (DuckDB store in a temp dir) on a
// loopback port for the length of the benchmark.
func startServer(b *testing.B, interval time.Duration) string {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := controlplane.New(ctx, controlplane.Config{
		DataDir: filepath.Join(b.TempDir(), "cp"), AdminToken: benchAdmin, JoinToken: benchJoin,
		HeartbeatInterval: interval, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, ln); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

func httpClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
}

// simAgent is a simulated agent: it registers, accepts pushes (applying
// them instantly) and heartbeats what it runs.
type simAgent struct {
	cp       *client.Client
	endpoint string
	mu       sync.Mutex
	running  api.NodeConfig
}

func (a *simAgent) observed() api.Observed {
	a.mu.Lock()
	defer a.mu.Unlock()
	return api.Observed{
		Endpoint: a.endpoint, Cluster: a.running.Cluster, Role: a.running.Role, Running: a.running.Revision, Healthy: true,
		Settings: api.Settings{MemoryLimit: a.running.Settings.MemoryLimit, Threads: a.running.Settings.Threads},
	}
}

func (a *simAgent) apply(cfg api.NodeConfig) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !cfg.Revision.Newer(a.running.Revision) {
		return false
	}
	a.running = cfg
	return true
}

func registerSim(b *testing.B, cpURL, endpoint string) *simAgent {
	b.Helper()
	join, _ := client.New(cpURL, benchJoin, client.WithHTTPClient(httpClient()))
	reg, err := join.Register(context.Background(), api.RegisterRequest{Pool: "default", Endpoint: endpoint})
	if err != nil {
		b.Fatal(err)
	}
	cp, _ := client.New(cpURL, reg.Credential, client.WithHTTPClient(httpClient()))
	return &simAgent{cp: cp, endpoint: endpoint}
}

// BenchmarkHeartbeats measures heartbeats per second that one control plane
// with the DuckDB store takes from 1,000 simulated agents over loopback
// HTTP. Target: 5,000/s on 2 cores (10,000 nodes at a 2 s interval).
func BenchmarkHeartbeats(b *testing.B) {
	cpURL := startServer(b, 2*time.Second)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer sink.Close()
	agents := make([]*simAgent, 1000)
	for i := range agents {
		agents[i] = registerSim(b, cpURL, sink.URL)
	}
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a := agents[next.Add(1)%int64(len(agents))]
			if _, err := a.cp.Heartbeat(context.Background(), a.observed()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "heartbeats/s")
}

// BenchmarkConvergence measures the time from a cluster update through the
// API until all 50 simulated agents of the cluster report the new
// generation. Target: under 2 s (the push path makes it possible).
func BenchmarkConvergence(b *testing.B) {
	cpURL := startServer(b, 2*time.Second)
	const nodes = 50
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range nodes {
		var a *simAgent
		kick := make(chan struct{}, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var cfg api.NodeConfig
			if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			if a.apply(cfg) {
				select {
				case kick <- struct{}{}:
				default:
				}
			}
		}))
		b.Cleanup(srv.Close)
		a = registerSim(b, cpURL, srv.URL)
		go func() {
			for {
				resp, err := a.cp.Heartbeat(ctx, a.observed())
				if err == nil && resp.Desired != a.observed().Running {
					if cfg, err := a.cp.AgentConfig(ctx); err == nil && a.apply(cfg) {
						continue
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-kick:
				case <-time.After(2 * time.Second):
				}
			}
		}()
	}
	admin, _ := client.New(cpURL, benchAdmin)
	c, err := admin.CreateCluster(ctx, api.ClusterCreate{Name: "wide", Spec: api.ClusterSpec{Replicas: nodes - 1, MemoryLimit: "1GiB", Threads: 1}})
	if err != nil {
		b.Fatal(err)
	}
	waitGen := func(gen int64) {
		for {
			c, err := admin.GetCluster(ctx, "wide")
			if err != nil {
				b.Fatal(err)
			}
			if c.Generation >= gen && c.Status.Phase == api.PhaseReady {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitGen(c.Generation)
	var times []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		c, err = admin.UpdateCluster(ctx, "wide", api.ClusterUpdate{Spec: api.ClusterSpec{Replicas: nodes - 1, MemoryLimit: "1GiB", Threads: 1 + (i+1)%2}}, c.Generation)
		if err != nil {
			b.Fatal(err)
		}
		waitGen(c.Generation)
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "ms-max")
	b.ReportMetric(nodes, "nodes")
}
