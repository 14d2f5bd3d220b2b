package httpapi_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/duckfleet/duckfleet/agent/access"
	"github.com/duckfleet/duckfleet/agent/engine"
	"github.com/duckfleet/duckfleet/agent/httpapi"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/token"
)

// benchGateway is a node's query API on loopback with one table of rows
// rows, and an in-process DuckDB holding the same table for comparison.
func benchGateway(b *testing.B, rows int) (*httptest.Server, *sql.DB) {
	b.Helper()
	eng, err := engine.New(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	if err := eng.Apply(b.Context(), "c", api.Settings{MemoryLimit: "1GiB", Threads: 2}); err != nil {
		b.Fatal(err)
	}
	pol := access.NewPolicy(api.AccessConfig{
		Roles: []api.RoleConfig{{Name: "o", Privileges: api.Privileges}},
		Users: []api.UserConfig{{Name: "o", TokenHash: token.Hash(ownerTok), Roles: []string{"o"}}},
	}, access.Node{Cluster: "c"})
	h := httpapi.New(httpapi.Config{NodeID: "n1", Querier: gateway{pol: pol, eng: eng}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(h.Router())
	b.Cleanup(srv.Close)
	create := "CREATE TABLE p AS SELECT range AS id, range * 2 AS v FROM range(" + itoa(rows) + ")"
	if st, out := postB(b, srv, ownerTok, api.QueryRequest{SQL: create}, ""); st != 200 {
		b.Fatalf("create: %d %s", st, out)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(create); err != nil {
		b.Fatal(err)
	}
	return srv, db
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func postB(b *testing.B, srv *httptest.Server, tok string, q api.QueryRequest, accept string) (int, []byte) {
	body, _ := json.Marshal(q)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/query", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func p50(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// BenchmarkPointQuery compares a point query on a 1M-row table through the
// gateway (HTTP, authentication, classification, JSON) with the same query
// run in-process on DuckDB. Target: gateway p50 overhead under 0.5 ms.
func BenchmarkPointQuery(b *testing.B) {
	srv, db := benchGateway(b, 1_000_000)
	q := "SELECT v FROM p WHERE id = $1"
	stmt, err := db.Prepare(q)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	var gw, inproc []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := int64(i*7919) % 1_000_000
		t0 := time.Now()
		var v int64
		if err := stmt.QueryRow(id).Scan(&v); err != nil {
			b.Fatal(err)
		}
		inproc = append(inproc, time.Since(t0))
		t1 := time.Now()
		if st, out := postB(b, srv, ownerTok, api.QueryRequest{SQL: q, Params: []any{id}}, ""); st != 200 {
			b.Fatalf("%d %s", st, out)
		}
		gw = append(gw, time.Since(t1))
	}
	b.StopTimer()
	g, p := p50(gw), p50(inproc)
	b.ReportMetric(float64(p.Microseconds())/1000, "inproc-p50-ms")
	b.ReportMetric(float64(g.Microseconds())/1000, "gateway-p50-ms")
	b.ReportMetric(float64((g-p).Microseconds())/1000, "overhead-p50-ms")
}

// BenchmarkStreamNDJSON streams 10M narrow rows as NDJSON through the
// gateway and compares the rate with the same scan in-process, while
// sampling the agent's Go heap and its peak resident size (which includes
// DuckDB's memory, so it shows whether the result was materialised).
// Target: at least 30% of the in-process rate, heap under 64 MiB.
func BenchmarkStreamNDJSON(b *testing.B) {
	const rows = 10_000_000
	srv, db := benchGateway(b, 1)
	q := "SELECT range AS id FROM range(" + itoa(rows) + ")"
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	defer close(stop)
	var gwRate, inRate, peakRSS float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resetPeakRSS()
		body, _ := json.Marshal(api.QueryRequest{SQL: q})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/query", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ownerTok)
		req.Header.Set("Accept", api.NDJSONContentType)
		t1 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		lines := 0
		for sc.Scan() {
			lines++
		}
		resp.Body.Close()
		if lines != rows+2 {
			b.Fatalf("streamed %d lines, want %d", lines, rows+2)
		}
		gwRate = float64(rows) / time.Since(t1).Seconds()
		peakRSS = readPeakRSS()
		t0 := time.Now()
		r, err := db.Query(q)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		var id int64
		for r.Next() {
			if err := r.Scan(&id); err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		inRate = float64(n) / time.Since(t0).Seconds()

	}
	b.StopTimer()
	b.ReportMetric(inRate, "inproc-rows/s")
	b.ReportMetric(gwRate, "gateway-rows/s")
	b.ReportMetric(100*gwRate/inRate, "gateway-%-of-inproc")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	if peakRSS > 0 {
		b.ReportMetric(peakRSS, "peak-rss-MiB")
	}
}

// resetPeakRSS resets the process's peak resident size (Linux), so that
// readPeakRSS reports the peak of what follows.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// readPeakRSS returns VmHWM in MiB, or 0 where /proc is not there.
func readPeakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}
