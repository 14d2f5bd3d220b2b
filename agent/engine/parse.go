package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// isPlainSelect reports whether DuckDB's parser sees a SELECT statement
// (PRAGMA, for one, plans as a SELECT but does not parse as one).
func (p *parser) isPlainSelect(ctx context.Context, query string) (bool, error) {
	var out string
	err := p.sql.QueryRowContext(ctx, `SELECT json_extract(json_serialize_sql(?::VARCHAR), '$.error')::VARCHAR`, query).Scan(&out)
	if err != nil {
		return false, fmt.Errorf("serialize: %w", err)
	}
	return out == "false", nil
}

func (p *parser) close() {
	if p.sql != nil {
		p.sql.Close()
	}
	bindings.Disconnect(&p.conn)
	bindings.Close(&p.db)
}
