package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/agent/access"
	"github.com/duckfleet/duckfleet/agent/engine"
	"github.com/duckfleet/duckfleet/agent/httpapi"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/token"
)

// gateway is the agent's query path (policy + engine) without the rest.
type gateway struct {
	pol *access.Policy
	eng *engine.Engine
}

func (g gateway) Query(ctx context.Context, tok string, req api.QueryRequest, sink engine.Sink) (engine.Stats, error) {
	return g.pol.Run(ctx, g.eng, tok, req, sink)
}

var tokenPub, tokenKey, _ = ed25519.GenerateKey(nil)

func queryToken(key ed25519.PrivateKey, cluster, user string, ttl time.Duration) string {
	return api.SignQueryToken(key, api.QueryClaims{Cluster: cluster, User: user, Expires: time.Now().Add(ttl).Unix(), Nonce: "n"})
}

const (
	readerTok = "dfu_reader"
	writerTok = "dfu_writer"
	ownerTok  = "dfu_owner"
	slowTok   = "dfu_slow"
	cappedTok = "dfu_capped"
	mainTok   = "dfu_main"
)

// dataDirs remembers each test's data dir, to check that users cannot see it.
var dataDirs sync.Map

func dataDir(t *testing.T) string {
	d, _ := dataDirs.Load(t.Name())
	s, _ := d.(string)
	return s
}

func newGateway(t *testing.T, replica bool) *httptest.Server {
	srv, _ := newGatewayEngine(t, replica)
	return srv
}

// newGatewayEngine is newGateway that also returns the node's engine.
func newGatewayEngine(t *testing.T, replica bool) (*httptest.Server, *engine.Engine) {
	t.Helper()
	dir := t.TempDir()
	dataDirs.Store(t.Name(), dir)
	eng, err := engine.New(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if err := eng.Apply(t.Context(), "c", api.Settings{MemoryLimit: "256MiB", Threads: 2}); err != nil {
		t.Fatal(err)
	}
	all := api.Privileges
	cfg := api.AccessConfig{
		Roles: []api.RoleConfig{
			{Name: "read", Privileges: []string{"SELECT"}},
			{Name: "write", Privileges: []string{"SELECT", "INSERT", "UPDATE", "DELETE"}},
			{Name: "own", Privileges: all},
			{Name: "slow", Privileges: []string{"SELECT"}, QueryTimeoutMillis: 200},
			{Name: "capped", Privileges: []string{"SELECT"}, MaxResultRows: 5},
			{Name: "main-only", Privileges: []string{"SELECT", "INSERT", "DELETE"}, Schemas: []string{"main"}},
		},
		Users: []api.UserConfig{
			{Name: "reader", TokenHash: token.Hash(readerTok), Roles: []string{"read"}},
			{Name: "writer", TokenHash: token.Hash(writerTok), Roles: []string{"write"}},
			{Name: "owner", TokenHash: token.Hash(ownerTok), Roles: []string{"own"}},
			{Name: "slow", TokenHash: token.Hash(slowTok), Roles: []string{"slow"}},
			{Name: "capped", TokenHash: token.Hash(cappedTok), Roles: []string{"capped"}},
			{Name: "main", TokenHash: token.Hash(mainTok), Roles: []string{"main-only"}},
		},
	}
	g := gateway{pol: access.NewPolicy(cfg, access.Node{Cluster: "c", Replica: replica, TokenKey: tokenPub}), eng: eng}
	h := httpapi.New(httpapi.Config{NodeID: "n1", Querier: g, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(h.Router())
	t.Cleanup(srv.Close)
	for _, q := range []string{
		"CREATE TABLE t (id INTEGER, name VARCHAR)",
		"INSERT INTO t VALUES (1, 'a'), (2, 'b')",
		"CREATE SCHEMA hr",
		"CREATE TABLE hr.salaries (id INTEGER, amount DECIMAL(10,2))",
		"INSERT INTO hr.salaries VALUES (1, 1000.00)",
		"CREATE VIEW main.pay AS SELECT * FROM hr.salaries",
		`CREATE TABLE "odd.name" AS SELECT 1 AS x`,
		"CREATE VIEW leak AS SELECT * FROM duckdb_databases()",
		"CREATE MACRO settings_count() AS (SELECT count(*) FROM duckdb_settings())",
		"CREATE MACRO settings_table() AS TABLE SELECT * FROM duckdb_settings()",
		"CREATE MACRO pay_count() AS (SELECT count(*) FROM hr.salaries)",
	} {
		if st, body := post(t, srv, ownerTok, map[string]any{"sql": q}, ""); st != 200 && !replica {
			t.Fatalf("setup %q: %d %s", q, st, body)
		}
	}
	return srv, eng
}

func post(t *testing.T, srv *httptest.Server, tok string, body any, accept string) (int, []byte) {
	t.Helper()
	var b []byte
	switch x := body.(type) {
	case []byte:
		b = x
	default:
		b, _ = json.Marshal(x)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v1/query", bytes.NewReader(b))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestQuerySecurity tries to get around the gateway's rules; each attempt
// has the status it must get.
func TestQuerySecurity(t *testing.T) {
	t.Parallel()
	srv, eng := newGatewayEngine(t, false)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	long := "SELECT " + strings.Repeat("1+", engine.MaxSQLBytes/2) + "1"
	tests := []struct {
		name string
		tok  string
		sql  any // string, or a raw []byte body
		want int
		msg  string
	}{
		{"plain select", readerTok, "SELECT * FROM t", 200, ""},
		{"two statements", readerTok, "SELECT 1; DROP TABLE t", 400, "more than one statement"},
		{"statement hidden after a comment", readerTok, "SELECT 1 -- harmless\n; DELETE FROM t", 400, "more than one statement"},
		{"semicolon inside a comment", readerTok, "/* ; DROP TABLE t; */ SELECT 1", 200, ""},
		{"semicolon inside a string", readerTok, "SELECT ';DROP TABLE t;'", 200, ""},
		{"semicolon inside a quoted name", readerTok, `SELECT 1 AS ";DROP TABLE t"`, 200, ""},
		{"trailing semicolon", readerTok, "SELECT 1;", 200, ""},
		{"insert without the privilege", readerTok, "INSERT INTO t VALUES (3, 'c')", 403, "may not run INSERT"},
		{"delete in odd case", readerTok, "DeLeTe FROM t", 403, "may not run DELETE"},
		{"DML wrapped in a CTE", readerTok, "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", 400, ""},
		{"update through a subquery", readerTok, "UPDATE t SET name = (SELECT 'x') WHERE id = 1", 403, "may not run UPDATE"},
		{"create without the privilege", writerTok, "CREATE TABLE x (a INT)", 403, "may not run CREATE"},
		{"alter without the privilege", writerTok, "ALTER TABLE t ADD COLUMN z INT", 403, "may not run ALTER"},
		{"read_csv of /etc/passwd", ownerTok, "SELECT * FROM read_csv('/etc/passwd')", 403, ""},
		{"string literal as a table", ownerTok, "SELECT * FROM '/etc/passwd'", 400, "does not exist"},
		{"glob of the root", ownerTok, "SELECT * FROM glob('/*')", 403, ""},
		{"read_parquet inside an insert", ownerTok, "INSERT INTO t SELECT * FROM read_parquet('/tmp/x.parquet')", 403, ""},
		{"create table from a file", ownerTok, "CREATE TABLE f AS SELECT * FROM read_text('/etc/hostname')", 403, ""},
		{"copy to a file", ownerTok, "COPY t TO '/tmp/out.csv'", 403, ""},
		{"copy from a file", ownerTok, "COPY t FROM '/etc/passwd'", 403, ""},
		{"export database", ownerTok, "EXPORT DATABASE '/tmp/exp'", 403, ""},
		{"attach memory", ownerTok, "ATTACH ':memory:' AS m", 403, "ATTACH statements are never allowed"},
		{"attach a file", ownerTok, "ATTACH '/tmp/other.duckdb' AS o", 403, ""},
		{"detach", ownerTok, "DETACH c", 403, ""},
		{"install an extension", ownerTok, "INSTALL httpfs", 403, "never allowed"},
		{"load an extension", ownerTok, "LOAD json", 403, "never allowed"},
		{"set a setting", ownerTok, "SET threads = 1", 403, "never allowed"},
		{"reset a setting", ownerTok, "RESET threads", 403, "never allowed"},
		{"set a variable", ownerTok, "SET VARIABLE x = 1", 403, "never allowed"},
		{"pragma that sets", ownerTok, "PRAGMA threads = 1", 403, ""},
		{"pragma that reads paths", ownerTok, "PRAGMA database_list", 403, ""},
		{"call a pragma function", ownerTok, "CALL pragma_version()", 403, "CALL statements are never allowed"},
		{"database paths through a table function", ownerTok, "SELECT * FROM duckdb_databases()", 403, "duckdb_databases is not allowed"},
		{"settings through a table function", readerTok, "SELECT * FROM duckdb_settings()", 403, "not allowed"},
		{"show databases", readerTok, "SHOW DATABASES", 403, ""},
		{"paths into a table", ownerTok, "INSERT INTO t SELECT 1, path FROM duckdb_databases()", 403, "duckdb_databases is not allowed"},
		{"begin a transaction", ownerTok, "BEGIN TRANSACTION", 403, "TRANSACTION statements are never allowed"},
		{"checkpoint", ownerTok, "CHECKPOINT", 403, "never allowed"},
		{"vacuum", ownerTok, "VACUUM", 403, "never allowed"},
		{"explain analyze runs the statement", ownerTok, "EXPLAIN ANALYZE DELETE FROM t", 403, "EXPLAIN statements are never allowed"},
		{"prepare", ownerTok, "PREPARE p AS SELECT 1", 403, "never allowed"},
		{"use another database", ownerTok, "USE memory", 403, ""},
		{"schema-qualified quoted name", readerTok, `SELECT * FROM "main"."t"`, 200, ""},
		{"names in odd case", readerTok, "select * from MAIN.T", 200, ""},
		{"range is allowed", readerTok, "SELECT count(*) FROM range(10)", 200, ""},
		{"describe", readerTok, "DESCRIBE t", 200, ""},
		{"missing table", readerTok, "SELECT * FROM nope", 400, "nope"},
		{"not SQL", readerTok, "SELEC 1", 400, "does not parse"},
		{"empty", readerTok, "   ", 400, "sql: is required"},
		{"only a semicolon", readerTok, " ; ", 400, ""},
		{"invalid UTF-8", readerTok, []byte("{\"sql\": \"SELECT '\xff'\"}"), 400, "not valid UTF-8"},
		{"NUL byte", readerTok, "SELECT 1\x00; DROP TABLE t", 400, "NUL"},
		{"very long SQL", readerTok, long, 400, "longer than"},
		{"unknown body field", readerTok, []byte(`{"sql":"SELECT 1","as":"admin"}`), 400, "unknown field"},
		{"no token", "", "SELECT 1", 401, ""},
		{"unknown token", "dfu_nobody", "SELECT 1", 401, ""},
		{"the control plane's admin token", "dfa_admin", "SELECT 1", 401, ""},
		{"a node credential", "dfn_node", "SELECT 1", 401, ""},
		{"short-lived token of a reader", queryToken(tokenKey, "c", "reader", time.Minute), "SELECT 1", 200, ""},
		{"short-lived token keeps the reader's limits", queryToken(tokenKey, "c", "reader", time.Minute), "DELETE FROM t", 403, "may not run DELETE"},
		{"expired short-lived token", queryToken(tokenKey, "c", "reader", -time.Second), "SELECT 1", 401, ""},
		{"short-lived token of another cluster", queryToken(tokenKey, "other", "reader", time.Minute), "SELECT 1", 401, ""},
		{"short-lived token of an unknown user", queryToken(tokenKey, "c", "mallory", time.Minute), "SELECT 1", 401, ""},
		{"short-lived token signed by another key", queryToken(otherKey, "c", "owner", time.Minute), "SELECT 1", 401, ""},
		{"schema allow-list: own schema", mainTok, "SELECT * FROM t", 200, ""},
		{"schema allow-list: other schema", mainTok, "SELECT * FROM hr.salaries", 403, "touches hr.salaries"},
		{"schema allow-list: join", mainTok, "SELECT * FROM t JOIN hr.salaries USING (id)", 403, "touches"},
		{"schema allow-list: CTE over another schema", mainTok, "WITH s AS (SELECT * FROM hr.salaries) SELECT * FROM s", 403, "touches"},
		{"schema allow-list: subquery", mainTok, "SELECT * FROM t WHERE id IN (SELECT id FROM hr.salaries)", 403, "touches"},
		{"schema allow-list: quoted upper case", mainTok, `SELECT * FROM "HR"."SALARIES"`, 403, "touches"},
		{"schema allow-list: catalog-qualified", mainTok, "SELECT * FROM c.hr.salaries", 403, "touches"},
		{"schema allow-list: view over another schema", mainTok, "SELECT * FROM pay", 403, "touches"},
		{"schema allow-list: CTE named like a table", mainTok, "WITH salaries AS (SELECT 1 AS id) SELECT * FROM salaries", 200, ""},
		{"schema allow-list: catalog listing", mainTok, "SHOW TABLES", 403, "may not list the catalog"},
		{"schema allow-list: delete in own schema", mainTok, "DELETE FROM t WHERE id = 99", 200, ""},
		{"schema allow-list: delete in other schema", mainTok, "DELETE FROM hr.salaries", 403, "touches"},
		{"a table name with a dot, planned, unrestricted", ownerTok, `SELECT x, amount FROM "odd.name", pay`, 200, ""},
		{"schema allow-list: a table name with a dot", mainTok, `SELECT * FROM "odd.name"`, 403, "cannot tell which tables"},
		{"schema allow-list: insert target unknown", mainTok, "INSERT INTO t VALUES (9, 'z')", 403, "cannot tell which tables"},
		{"forbidden function behind a view", readerTok, "SELECT * FROM leak", 403, "duckdb_databases is not allowed"},
		{"forbidden function behind a scalar macro", readerTok, "SELECT settings_count()", 403, "duckdb_settings is not allowed"},
		{"forbidden function behind a table macro", readerTok, "SELECT * FROM settings_table()", 403, "not allowed"},
		{"other schema behind a macro", mainTok, "SELECT pay_count()", 403, "hr.salaries"},
		{"timeout interrupts", slowTok, "SELECT count(*) FROM range(100000000000)", 408, "interrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.sql
			if s, ok := tt.sql.(string); ok {
				body = map[string]any{"sql": s}
			}
			st, out := post(t, srv, tt.tok, body, "")
			if st != tt.want || (tt.msg != "" && !strings.Contains(string(out), tt.msg)) {
				t.Errorf("status %d, body %.300s; want %d mentioning %q", st, out, tt.want, tt.msg)
			}
		})
	}
	// The spool, where backups are written, is the one directory DuckDB may
	// touch; users still cannot read or write it, even when it holds a
	// real backup image.
	dir, err := eng.SpoolDir("image")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Export(t.Context(), dir, "zstd"); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if len(files) == 0 {
		t.Fatal("the export wrote no Parquet file")
	}
	file := files[0]
	for _, sql := range []string{
		"SELECT * FROM read_parquet('" + file + "')",
		"SELECT * FROM '" + file + "'",
		"SELECT * FROM read_text('" + filepath.Join(dir, "schema.sql") + "')",
		"SELECT * FROM parquet_metadata('" + file + "')",
		"SELECT * FROM glob('" + dir + "/*')",
		"CREATE TABLE stolen AS SELECT * FROM '" + file + "'",
		"INSERT INTO t SELECT * FROM read_parquet('" + file + "')",
		"COPY t TO '" + filepath.Join(dir, "leak.csv") + "'",
		"EXPORT DATABASE '" + filepath.Join(dir, "mine") + "'",
		"ATTACH '" + filepath.Join(dir, "other.duckdb") + "' AS o",
	} {
		if st, out := post(t, srv, ownerTok, map[string]any{"sql": sql}, ""); st != 403 {
			t.Errorf("%q on the spool: %d %.200s, want 403", sql, st, out)
		}
	}
	// No setting shows where the node keeps its data.
	st0, out0 := post(t, srv, readerTok, map[string]any{"sql": "SELECT current_setting('temp_directory') || current_setting('home_directory') || current_setting('extension_directory')"}, "")
	if st0 != 200 || strings.Contains(string(out0), dataDir(t)) {
		t.Errorf("settings reveal the data dir: %d %s", st0, out0)
	}
	// Nothing above left a transaction open or changed the data.
	st, out := post(t, srv, writerTok, map[string]any{"sql": "INSERT INTO t VALUES (3, 'c')"}, "")
	if st != 200 {
		t.Fatalf("insert after the attempts: %d %s", st, out)
	}
	st, out = post(t, srv, readerTok, map[string]any{"sql": "SELECT count(*) AS n FROM t"}, "")
	var res api.QueryResult
	_ = json.Unmarshal(out, &res)
	if st != 200 || len(res.Rows) != 1 || res.Rows[0][0] != float64(3) {
		t.Errorf("count after the attempts: %d %s", st, out)
	}
}

func TestQueryResults(t *testing.T) {
	t.Parallel()
	srv := newGateway(t, false)
	st, out := post(t, srv, readerTok, map[string]any{"sql": "SELECT $1::INTEGER + 1 AS n, 'x' AS s, 1.5::DECIMAL(4,2) AS d, DATE '2026-01-02' AS day", "params": []any{41}}, "")
	var res api.QueryResult
	if err := json.Unmarshal(out, &res); err != nil || st != 200 {
		t.Fatalf("%d %s", st, out)
	}
	if got := strings.Join(res.Columns, ","); got != "n,s,d,day" {
		t.Errorf("columns %s", got)
	}
	if got := strings.Join(res.Types, ","); got != "INTEGER,VARCHAR,DECIMAL(4,2),DATE" {
		t.Errorf("types %s", got)
	}
	if b, _ := json.Marshal(res.Rows); string(b) != `[[42,"x","1.5","2026-01-02"]]` {
		t.Errorf("rows %s", b)
	}

	st, out = post(t, srv, cappedTok, map[string]any{"sql": "SELECT * FROM range(100)"}, "")
	res = api.QueryResult{}
	_ = json.Unmarshal(out, &res)
	if st != 200 || len(res.Rows) != 5 || !res.Truncated || res.RowCount != 5 {
		t.Errorf("capped: %d rows, truncated %v", len(res.Rows), res.Truncated)
	}

	st, out = post(t, srv, readerTok, map[string]any{"sql": "SELECT i FROM range(3) r(i)"}, api.NDJSONContentType)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if st != 200 || len(lines) != 5 || lines[0] != `{"columns":["i"],"types":["BIGINT"]}` || lines[1] != "[0]" || lines[4] != `{"row_count":3,"truncated":false}` {
		t.Errorf("ndjson: %d %q", st, lines)
	}
}

func TestReplicaRefusesWrites(t *testing.T) {
	t.Parallel()
	srv := newGateway(t, true)
	if st, out := post(t, srv, ownerTok, map[string]any{"sql": "CREATE TABLE r (a INT)"}, ""); st != 403 || !strings.Contains(string(out), "read-only replica") {
		t.Errorf("write on a replica: %d %s", st, out)
	}
	if st, out := post(t, srv, readerTok, map[string]any{"sql": "SELECT 1"}, ""); st != 200 {
		t.Errorf("read on a replica: %d %s", st, out)
	}
}

// TestNewViewIsSeen checks that a view created after a statement was first
// seen is still looked through: the engine's catalog of views and macros
// is read again after every CREATE.
func TestNewViewIsSeen(t *testing.T) {
	t.Parallel()
	srv := newGateway(t, false)
	q := map[string]any{"sql": "SELECT * FROM later"}
	if st, out := post(t, srv, readerTok, q, ""); st != 400 {
		t.Fatalf("before the view exists: %d %s", st, out)
	}
	if st, out := post(t, srv, ownerTok, map[string]any{"sql": "CREATE VIEW later AS SELECT * FROM duckdb_settings()"}, ""); st != 200 {
		t.Fatalf("create view: %d %s", st, out)
	}
	if st, out := post(t, srv, readerTok, q, ""); st != 403 {
		t.Errorf("after the view exists: %d %s", st, out)
	}
}
