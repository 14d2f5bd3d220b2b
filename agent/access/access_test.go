package access

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/agent/engine"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/token"
)

func TestNewPolicyMergesRoles(t *testing.T) {
	t.Parallel()
	p := NewPolicy(api.AccessConfig{
		Roles: []api.RoleConfig{
			{Name: "a", Privileges: []string{"SELECT"}, QueryTimeoutMillis: 1000, MaxResultRows: 10},
			{Name: "b", Privileges: []string{"INSERT", "SELECT"}, QueryTimeoutMillis: 3000, MaxResultRows: 20},
			{Name: "c", Privileges: []string{"DELETE"}},
		},
		Users: []api.UserConfig{
			{Name: "ab", TokenHash: token.Hash("t1"), Roles: []string{"a", "b", "gone"}},
			{Name: "ac", TokenHash: token.Hash("t2"), Roles: []string{"a", "c"}},
			{Name: "none", TokenHash: token.Hash("t3")},
		},
	}, Node{Cluster: "c"})
	tests := []struct {
		tok     string
		privs   []string
		timeout time.Duration
		rows    int64
	}{
		{"t1", []string{"INSERT", "SELECT"}, 3 * time.Second, 20},
		{"t2", []string{"DELETE", "SELECT"}, time.Second, 0},
		{"t3", nil, api.DefaultQueryTimeout, 0},
	}
	for _, tt := range tests {
		u, err := p.Authenticate(tt.tok)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(u.Privileges, tt.privs) || u.Timeout != tt.timeout || u.MaxRows != tt.rows {
			t.Errorf("%s: %+v, want %v %v %d", u.Name, u, tt.privs, tt.timeout, tt.rows)
		}
	}
	if _, err := p.Authenticate("t4"); err != ErrUnauthenticated {
		t.Errorf("unknown token: %v", err)
	}
	var nilPolicy *Policy
	if _, err := nilPolicy.Authenticate("t1"); err != ErrUnauthenticated {
		t.Errorf("a node without access config must refuse every token: %v", err)
	}
}

type discard struct{}

func (discard) Columns([]string, []string) error { return nil }
func (discard) Row([]any) error                  { return nil }

type counter struct{ n int64 }

func (c *counter) Columns([]string, []string) error { return nil }
func (c *counter) Row(v []any) error {
	c.n, _ = v[0].(int64)
	return nil
}

// FuzzReaderCannotWrite runs arbitrary SQL as a user who may only SELECT
// and checks that the database is unchanged afterwards: whatever the
// classifier makes of the input, no write gets through.
func FuzzReaderCannotWrite(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t", "SELECT 1; DROP TABLE t", "DELETE FROM t", "DeLeTe FROM t",
		"WITH x AS (SELECT 1) DELETE FROM t", "INSERT INTO t SELECT * FROM t", "UPDATE t SET id = 0",
		"CREATE TABLE x AS SELECT 1", "DROP TABLE t", "ALTER TABLE t RENAME TO u", "TRUNCATE t",
		"/* ; */ DELETE FROM t", "SELECT 1 -- \n; DELETE FROM t", "ATTACH ':memory:' AS m",
		"COPY t TO 'x.csv'", "PRAGMA threads=1", "CALL pragma_version()", "BEGIN; DELETE FROM t; COMMIT",
		"EXPLAIN ANALYZE DELETE FROM t", "PREPARE p AS DELETE FROM t", "EXECUTE p", "CREATE MACRO m() AS 1",
		"INSERT OR REPLACE INTO t VALUES (1, 'x')", "CREATE OR REPLACE TABLE t (a INT)", "DETACH c",
	} {
		f.Add(s)
	}
	eng, err := engine.New(filepath.Join(f.TempDir(), "db"))
	if err != nil {
		f.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	if err := eng.Apply(ctx, "c", api.Settings{MemoryLimit: "256MiB", Threads: 1}); err != nil {
		f.Fatal(err)
	}
	pol := NewPolicy(api.AccessConfig{
		Roles: []api.RoleConfig{{Name: "r", Privileges: []string{"SELECT"}, QueryTimeoutMillis: 2000}, {Name: "o", Privileges: api.Privileges}},
		Users: []api.UserConfig{{Name: "reader", TokenHash: token.Hash("r"), Roles: []string{"r"}}, {Name: "owner", TokenHash: token.Hash("o"), Roles: []string{"o"}}},
	}, Node{Cluster: "c"})
	for _, q := range []string{"CREATE TABLE t (id INTEGER, name VARCHAR)", "INSERT INTO t VALUES (1, 'a'), (2, 'b')"} {
		if _, err := pol.Run(ctx, eng, "o", api.QueryRequest{SQL: q}, discard{}); err != nil {
			f.Fatal(err)
		}
	}
	fingerprint := func() int64 {
		var c counter
		_, err := pol.Run(ctx, eng, "o", api.QueryRequest{SQL: "SELECT (SELECT count(*) FROM t) * 1000 + (SELECT count(*) FROM duckdb_tables()) * 100 + (SELECT count(*) FROM duckdb_columns() WHERE table_name = 't')"}, &c)
		if err != nil {
			f.Fatalf("fingerprint: %v", err)
		}
		return c.n
	}
	want := fingerprint()
	f.Fuzz(func(t *testing.T, sql string) {
		st, err := pol.Run(ctx, eng, "r", api.QueryRequest{SQL: sql}, discard{})
		if err == nil && st.Statement.Class != "SELECT" {
			t.Fatalf("%q ran as a %s statement for a SELECT-only user", sql, st.Statement.Class)
		}
		if got := fingerprint(); got != want {
			t.Fatalf("%q changed the database (fingerprint %d, was %d)", sql, got, want)
		}
	})
}
