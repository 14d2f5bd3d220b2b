package engine

import (
	"context"
	"database/sql/driver"
	"path/filepath"
	"testing"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/google/go-cmp/cmp"
)

type collect struct {
	stream bool
	names  []string
	types  []string
	rows   [][]any
}

func (c *collect) Columns(n, t []string) error { c.names, c.types = n, t; return nil }
func (c *collect) Row(v []any) error           { c.rows = append(c.rows, v); return nil }
func (c *collect) Streaming() bool             { return c.stream }

func allow(*Statement) error { return nil }

// TestRawConnection fails if duckdb-go stops keeping its connection where
// rawConnection looks for it.
func TestRawConnection(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	conn, err := e.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		_, err := rawConnection(dc.(driver.Conn))
		return err
	})
	if err != nil {
		t.Fatalf("rawConnection: %v: duckdb-go changed; streaming would fall back to materialising results", err)
	}
}

func openTest(t *testing.T) *Engine {
	t.Helper()
	e, err := New(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if err := e.Apply(t.Context(), "c", api.Settings{MemoryLimit: "256MiB", Threads: 1}); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestStreamingMatchesMaterialised reads the same results both ways.
func TestStreamingMatchesMaterialised(t *testing.T) {
	t.Parallel()
	e := openTest(t)
	ctx := context.Background()
	if _, err := e.Query(ctx, Query{SQL: `CREATE TABLE v AS SELECT i::TINYINT a, i::SMALLINT b, i::INTEGER c, i::BIGINT d, i::UTINYINT e, i::USMALLINT f,
		i::UINTEGER g, i::UBIGINT h, (i / 2)::FLOAT j, (i / 3)::DOUBLE k, i % 2 = 0 AS l, repeat('x', i) AS m,
		DATE '2026-01-01' + i::INTEGER AS n, TIMESTAMP '2026-01-01 00:00:00' + to_seconds(i) AS o FROM range(20) r(i)`, Authorize: allow}, &collect{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Query(ctx, Query{SQL: "INSERT INTO v (a) VALUES (NULL)", Authorize: allow}, &collect{}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []Query{
		{SQL: "SELECT * FROM v ORDER BY c NULLS LAST", Authorize: allow},
		{SQL: "SELECT * FROM v WHERE c > $1 ORDER BY c", Params: []any{int64(10)}, Authorize: allow},
		{SQL: "SELECT * FROM v ORDER BY c", MaxRows: 3, Authorize: allow},
	} {
		streamed, materialised := &collect{stream: true}, &collect{}
		s1, err := e.Query(ctx, q, streamed)
		if err != nil {
			t.Fatalf("%s streamed: %v", q.SQL, err)
		}
		s2, err := e.Query(ctx, q, materialised)
		if err != nil {
			t.Fatalf("%s: %v", q.SQL, err)
		}
		streamed.stream = false
		if d := cmp.Diff(materialised, streamed, cmp.AllowUnexported(collect{})); d != "" {
			t.Errorf("%s: streamed differs from materialised (-want +got):\n%s", q.SQL, d)
		}
		if !s1.Streamed || s2.Streamed {
			t.Errorf("%s: streamed=%v for the streaming sink and %v for the other", q.SQL, s1.Streamed, s2.Streamed)
		}
		if s1.Rows != s2.Rows || s1.Truncated != s2.Truncated {
			t.Errorf("%s: stats %+v vs %+v", q.SQL, s1, s2)
		}
	}
}
