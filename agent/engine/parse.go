package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	bindings "github.com/duckdb/duckdb-go-bindings"
)

// parser is an empty in-memory DuckDB used only to parse: it counts the
// statements of a string with DuckDB's extract-statements API (which never
// executes anything) and asks json_serialize_sql what kind of statement a
// SELECT-typed statement really is. It holds no data and reads no files.
type parser struct {
	mu   sync.Mutex // a DuckDB connection is not safe for concurrent use
	db   bindings.Database
	conn bindings.Connection
	sql  *sql.DB

	cacheMu sync.Mutex
	cache   map[string]parsed
}

// parsed is what a statement's text alone says about it.
type parsed struct {
	class  string
	syntax syntax
}

// maxCached bounds the cache of parsed statements; it is emptied when full.
const maxCached = 4096

func (p *parser) cached(query string) (parsed, bool) {
	p.cacheMu.Lock()
	defer p.cacheMu.Unlock()
	c, ok := p.cache[query]
	return c, ok
}

func (p *parser) remember(query string, c parsed) {
	p.cacheMu.Lock()
	defer p.cacheMu.Unlock()
	if p.cache == nil || len(p.cache) >= maxCached {
		p.cache = map[string]parsed{}
	}
	p.cache[query] = c
}

func (p *parser) forget() {
	p.cacheMu.Lock()
	p.cache = nil
	p.cacheMu.Unlock()
}

func newParser() (*parser, error) {
	p := &parser{}
	if bindings.Open(":memory:", &p.db) == bindings.StateError {
		return nil, errors.New("open the parser database")
	}
	if bindings.Connect(p.db, &p.conn) == bindings.StateError {
		bindings.Close(&p.db)
		return nil, errors.New("connect to the parser database")
	}
	db, err := sql.Open("duckdb", ":memory:?enable_external_access=false&lock_configuration=true&autoload_known_extensions=false&autoinstall_known_extensions=false")
	if err != nil {
		p.close()
		return nil, err
	}
	p.sql = db
	return p, nil
}

// ParseError is SQL that DuckDB's parser rejects.
type ParseError struct{ Message string }

func (e *ParseError) Error() string { return "the SQL does not parse: " + e.Message }

// count returns the number of statements in query, or a *ParseError.
func (p *parser) count(query string) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ex bindings.ExtractedStatements
	n := bindings.ExtractStatements(p.conn, query, &ex)
	defer bindings.DestroyExtracted(&ex)
	if n == 0 {
		msg := bindings.ExtractStatementsError(ex)
		if msg == "" {
			msg = "no statement found"
		}
		return 0, &ParseError{Message: msg}
	}
	return int(n), nil
}

// syntax is what the syntax tree of a SELECT says.
type syntax struct {
	// tables it names, leaving out references to its own CTEs.
	tables []Table
	// tableFuncs are the table functions it calls (upper case).
	tableFuncs []string
	// funcs are the scalar and aggregate functions it calls (lower case).
	funcs []string
	// refTypes are the kinds of table reference it uses (BASE_TABLE, JOIN, ...).
	refTypes []string
}

// selectSyntax asks DuckDB's parser for the syntax tree of a SELECT
// statement. It returns ok=false when the statement does not parse as a
// SELECT (PRAGMA, for one, plans as a SELECT but does not parse as one).
func (p *parser) selectSyntax(ctx context.Context, query string) (syn syntax, ok bool, err error) {
	var out string
	err = p.sql.QueryRowContext(ctx, `SELECT json_serialize_sql(?::VARCHAR)::VARCHAR`, query).Scan(&out)
	if err != nil {
		return syn, false, fmt.Errorf("serialize: %w", err)
	}
	var tree any
	if err := json.Unmarshal([]byte(out), &tree); err != nil {
		return syn, false, fmt.Errorf("serialize: %w", err)
	}
	if m, _ := tree.(map[string]any); m == nil || m["error"] != false {
		return syn, false, nil
	}
	fset, sfset, rset := map[string]bool{}, map[string]bool{}, map[string]bool{}
	ctes := map[string]bool{}
	var refs []Table
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if cm, ok := x["cte_map"].(map[string]any); ok {
				for _, e := range asList(cm["map"]) {
					if em, ok := e.(map[string]any); ok {
						if k, ok := em["key"].(string); ok {
							ctes[strings.ToLower(k)] = true
						}
					}
				}
			}
			if _, isRef := x["sample"]; isRef && x["class"] == nil {
				rset[str(x["type"])] = true
			}
			if x["class"] == "FUNCTION" {
				sfset[strings.ToLower(str(x["function_name"]))] = true
			}
			if x["type"] == "TABLE_FUNCTION" {
				if fn, ok := x["function"].(map[string]any); ok {
					fset[strings.ToUpper(str(fn["function_name"]))] = true
				}
			}
			if x["type"] == "BASE_TABLE" {
				t := Table{Catalog: str(x["catalog_name"]), Schema: str(x["schema_name"]), Name: str(x["table_name"])}
				refs = append(refs, t)
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(tree)
	for _, t := range refs {
		if t.Catalog == "" && t.Schema == "" && ctes[strings.ToLower(t.Name)] {
			continue
		}
		if t.Schema == "" {
			t.Schema = "main"
		}
		syn.tables = append(syn.tables, t)
	}
	syn.tableFuncs, syn.funcs, syn.refTypes = sortedKeys(fset), sortedKeys(sfset), sortedKeys(rset)
	return syn, true, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (p *parser) close() {
	if p.sql != nil {
		p.sql.Close()
	}
	bindings.Disconnect(&p.conn)
	bindings.Close(&p.db)
}
