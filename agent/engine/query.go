package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
)

// MaxSQLBytes bounds the SQL text of one query.
const MaxSQLBytes = 1 << 20

// Statement is what DuckDB says a statement is, before it runs.
type Statement struct {
	// Class is SELECT, INSERT, UPDATE, DELETE, CREATE, DROP or ALTER, or
	// the DuckDB statement type of anything else (ATTACH, COPY, PRAGMA, ...).
	Class string
	// Functions are the table functions the statement calls: for a SELECT
	// those its syntax tree names, after Plan also those its plan calls.
	Functions []string
	// Tables are the tables the statement touches, as far as DuckDB's
	// parser (for SELECT) and, after Plan, its planner (scans, views
	// expanded, UPDATE and DELETE targets) can tell; TablesKnown says
	// whether that is all of them. INSERT and CREATE targets do not appear
	// in a plan, so for those classes TablesKnown is false.
	Tables      []Table
	TablesKnown bool
	// Database is the catalog name of the node's database.
	Database string
	// Simple says that the syntax tree tells everything a plan would: it
	// names only base tables of this database (no views), no user-defined
	// macros, and only plain kinds of table reference. Only a SELECT can
	// be simple.
	Simple bool

	plan   func(*Statement) error
	planed bool
}

// Plan asks DuckDB's planner (EXPLAIN, which never executes) for the table
// functions and tables the statement uses and adds them to st. It runs at
// most once. The plan is made for every statement with a query part:
// only the planner sees through views, and a view's definition is not
// planned when it is created.
func (st *Statement) Plan() error {
	if st.planed || st.plan == nil {
		return nil
	}
	st.planed = true
	return st.plan(st)
}

// planned are the classes whose plan is inspected with EXPLAIN.
var planned = map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "CREATE": true}

// Table is a table or view a statement names or scans.
type Table struct {
	Catalog, Schema, Name string
}

func (t Table) String() string {
	if t.Catalog != "" {
		return t.Catalog + "." + t.Schema + "." + t.Name
	}
	return t.Schema + "." + t.Name
}

// Query is one statement to run.
type Query struct {
	SQL    string
	Params []any
	// Timeout interrupts the query; 0 means none.
	Timeout time.Duration
	// MaxRows stops reading after that many rows; 0 means no cap.
	MaxRows int64
	// Authorize is asked before anything executes; an error refuses. It
	// may call st.Plan for what the syntax tree cannot tell.
	Authorize func(st *Statement) error
}

// Sink receives a result as it is read.
type Sink interface {
	Columns(names, types []string) error
	Row(values []any) error
}

// StreamingSink is a Sink that wants rows as DuckDB produces them, chunk
// by chunk, rather than after DuckDB has computed the whole result.
type StreamingSink interface {
	Sink
	Streaming() bool
}

// Stats describe a finished query.
type Stats struct {
	// User is who ran it, filled in by the caller that authenticated them.
	User      string
	Statement Statement
	Rows      int64
	Truncated bool
	// Streamed says the rows came chunk by chunk from DuckDB's streaming API.
	Streamed bool
}

// Errors of Query, besides *ParseError and the Authorize error.
var (
	ErrMultipleStatements = errors.New("the SQL holds more than one statement: send one statement per request")
	ErrTimeout            = errors.New("the query ran past its timeout and was interrupted")
	ErrBadSQLText         = errors.New("the SQL is not valid UTF-8 text without NUL bytes")
	ErrTooLong            = fmt.Errorf("the SQL is longer than %d bytes", MaxSQLBytes)
)

// QueryError is an error DuckDB raised while binding or running a statement.
type QueryError struct{ Err error }

func (e *QueryError) Error() string { return e.Err.Error() }
func (e *QueryError) Unwrap() error { return e.Err }

// Forbidden reports whether DuckDB refused the statement for lack of
// permission (a file read with external access off, say).
func (e *QueryError) Forbidden() bool {
	var de *duckdb.Error
	return errors.As(e.Err, &de) && de.Type == duckdb.ErrorTypePermission
}

// Unverifiable is a statement whose effects could not be worked out.
type Unverifiable struct{ Reason string }

func (e *Unverifiable) Error() string {
	return "the statement could not be verified before running: " + e.Reason
}

var classes = map[duckdb.StmtType]string{
	duckdb.STATEMENT_TYPE_SELECT:       "SELECT",
	duckdb.STATEMENT_TYPE_INSERT:       "INSERT",
	duckdb.STATEMENT_TYPE_UPDATE:       "UPDATE",
	duckdb.STATEMENT_TYPE_DELETE:       "DELETE",
	duckdb.STATEMENT_TYPE_CREATE:       "CREATE",
	duckdb.STATEMENT_TYPE_CREATE_FUNC:  "CREATE",
	duckdb.STATEMENT_TYPE_DROP:         "DROP",
	duckdb.STATEMENT_TYPE_ALTER:        "ALTER",
	duckdb.STATEMENT_TYPE_EXPLAIN:      "EXPLAIN",
	duckdb.STATEMENT_TYPE_PREPARE:      "PREPARE",
	duckdb.STATEMENT_TYPE_EXECUTE:      "EXECUTE",
	duckdb.STATEMENT_TYPE_TRANSACTION:  "TRANSACTION",
	duckdb.STATEMENT_TYPE_COPY:         "COPY",
	duckdb.STATEMENT_TYPE_ANALYZE:      "ANALYZE",
	duckdb.STATEMENT_TYPE_VARIABLE_SET: "SET VARIABLE",
	duckdb.STATEMENT_TYPE_EXPORT:       "EXPORT",
	duckdb.STATEMENT_TYPE_PRAGMA:       "PRAGMA",
	duckdb.STATEMENT_TYPE_VACUUM:       "VACUUM",
	duckdb.STATEMENT_TYPE_CALL:         "CALL",
	duckdb.STATEMENT_TYPE_SET:          "SET",
	duckdb.STATEMENT_TYPE_LOAD:         "LOAD",
	duckdb.STATEMENT_TYPE_RELATION:     "RELATION",
	duckdb.STATEMENT_TYPE_EXTENSION:    "EXTENSION",
	duckdb.STATEMENT_TYPE_LOGICAL_PLAN: "LOGICAL PLAN",
	duckdb.STATEMENT_TYPE_ATTACH:       "ATTACH",
	duckdb.STATEMENT_TYPE_DETACH:       "DETACH",
	duckdb.STATEMENT_TYPE_MULTI:        "MULTI",
}

// Query classifies q with DuckDB's parser and planner, asks q.Authorize,
// and only then runs it, handing columns and rows to sink as they are read.
func (e *Engine) Query(ctx context.Context, q Query, sink Sink) (Stats, error) {
	var st Stats
	switch {
	case len(q.SQL) > MaxSQLBytes:
		return st, ErrTooLong
	case !utf8.ValidString(q.SQL) || strings.IndexByte(q.SQL, 0) >= 0:
		return st, ErrBadSQLText
	}
	if _, seen := e.parser.cached(q.SQL); !seen { // only single statements are cached
		n, err := e.parser.count(q.SQL)
		if err != nil {
			return st, err
		}
		if n != 1 {
			return st, ErrMultipleStatements
		}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.db == nil {
		return st, ErrNoDatabase
	}
	if q.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.Timeout)
		defer cancel()
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return st, timeoutOr(ctx, err)
	}
	defer conn.Close()
	if st.Statement, err = e.classify(ctx, conn, q); err != nil {
		return st, timeoutOr(ctx, err)
	}
	if planned[st.Statement.Class] {
		st.Statement.plan = func(t *Statement) error { return explain(ctx, conn, q, t) }
	}
	if err := q.Authorize(&st.Statement); err != nil {
		return st, timeoutOr(ctx, err)
	}
	switch st.Statement.Class {
	case "CREATE", "DROP", "ALTER":
		// The catalog may change: views and macros are read again.
		defer e.catalogChanged()
	}
	if st.Statement.Class != "SELECT" {
		// May write: not while a snapshot copies the database file.
		if err := e.writers.Acquire(ctx, 1); err != nil {
			return st, timeoutOr(ctx, err)
		}
		defer e.writers.Release(1)
	}

	if ss, ok := sink.(StreamingSink); ok && ss.Streaming() && st.Statement.Class == "SELECT" {
		err := conn.Raw(func(dc any) error {
			rc, err := rawConnection(dc)
			if err != nil {
				return err
			}
			return stream(ctx, rc, q, sink, &st)
		})
		if !errors.Is(err, errCannotStream) {
			return st, timeoutOr(ctx, err)
		}
		// Nothing was sent: read it the materialising way.
	}
	rows, err := conn.QueryContext(ctx, q.SQL, q.Params...)
	if err != nil {
		return st, timeoutOr(ctx, &QueryError{Err: err})
	}
	defer rows.Close()
	if err := readRows(rows, q.MaxRows, sink, &st); err != nil {
		return st, timeoutOr(ctx, err)
	}
	return st, nil
}

func timeoutOr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrTimeout
	}
	return err
}

// classify asks DuckDB what the one statement in q is, without running it.
// What depends only on the SQL text (its statement type and, for a SELECT,
// its syntax tree) is cached by text; the plan is made on demand.
func (e *Engine) classify(ctx context.Context, conn *sql.Conn, q Query) (Statement, error) {
	st := Statement{Database: e.dbName}
	c, ok := e.parser.cached(q.SQL)
	if !ok {
		var err error
		if c, err = e.parse(ctx, conn, q.SQL); err != nil {
			return st, err
		}
		e.parser.remember(q.SQL, c)
	}
	st.Class = c.class
	st.Tables, st.Functions = c.syntax.tables, c.syntax.tableFuncs
	st.TablesKnown = st.Class == "SELECT" || st.Class == "UPDATE" || st.Class == "DELETE"
	if st.Class == "SELECT" {
		objs, err := e.userObjects(ctx, conn)
		if err != nil {
			return st, &Unverifiable{Reason: err.Error()}
		}
		st.Simple = objs.simple(c.syntax, st.Database)
	}
	return st, nil
}

// parse works out what the text of a statement says: its type (from
// preparing it) and, for a SELECT, its syntax tree.
func (e *Engine) parse(ctx context.Context, conn *sql.Conn, query string) (parsed, error) {
	var c parsed
	err := conn.Raw(func(dc any) error {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("driver connection cannot prepare")
		}
		ds, err := pc.PrepareContext(ctx, query)
		if err != nil {
			return &QueryError{Err: err}
		}
		defer ds.Close()
		s, ok := ds.(*duckdb.Stmt)
		if !ok {
			return errors.New("not a DuckDB statement")
		}
		t, err := s.StatementType()
		if err != nil {
			return &QueryError{Err: err}
		}
		c.class = classes[t]
		if c.class == "" {
			c.class = fmt.Sprintf("statement type %d", t)
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	if c.class == "SELECT" {
		syn, plain, err := e.parser.selectSyntax(ctx, query)
		if err != nil {
			return c, &Unverifiable{Reason: err.Error()}
		}
		if !plain {
			c.class = "PRAGMA" // plans as a SELECT, parses as something else
		}
		c.syntax = syn
	}
	return c, nil
}

// explain plans the statement (EXPLAIN never executes it) and collects the
// table functions it calls and the tables it scans.
func explain(ctx context.Context, conn *sql.Conn, q Query, st *Statement) error {
	var kind, plan string
	if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT json) "+q.SQL, q.Params...).Scan(&kind, &plan); err != nil {
		return &Unverifiable{Reason: err.Error()}
	}
	var nodes []planNode
	if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
		return &Unverifiable{Reason: "the plan is not JSON: " + err.Error()}
	}
	funcs := map[string]bool{}
	for _, f := range st.Functions {
		funcs[f] = true
	}
	var walk func([]planNode)
	walk = func(ns []planNode) {
		for _, n := range ns {
			if f, ok := n.ExtraInfo["Function"].(string); ok {
				funcs[strings.ToUpper(f)] = true
			}
			if t, ok := n.ExtraInfo["Table"].(string); ok {
				parts := strings.Split(t, ".")
				if len(parts) != 3 {
					// A name with a dot in it: which schema it is in cannot
					// be read back, so schema-limited roles refuse it.
					st.TablesKnown = false
					continue
				}
				st.Tables = append(st.Tables, Table{Catalog: parts[0], Schema: parts[1], Name: parts[2]})
			}
			walk(n.Children)
		}
	}
	walk(nodes)
	st.Functions = sortedKeys(funcs)
	return nil
}

type planNode struct {
	Name      string         `json:"name"`
	Children  []planNode     `json:"children"`
	ExtraInfo map[string]any `json:"extra_info"`
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func readRows(rows *sql.Rows, maxRows int64, sink Sink, st *Stats) error {
	names, err := rows.Columns()
	if err != nil {
		return &QueryError{Err: err}
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		return &QueryError{Err: err}
	}
	types := make([]string, len(cts))
	for i, ct := range cts {
		types[i] = ct.DatabaseTypeName()
	}
	if err := sink.Columns(names, types); err != nil {
		return err
	}
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if maxRows > 0 && st.Rows >= maxRows {
			st.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return &QueryError{Err: err}
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			out[i] = columnValue(types[i], v)
		}
		if err := sink.Row(out); err != nil {
			return err
		}
		st.Rows++
	}
	if err := rows.Err(); err != nil {
		return &QueryError{Err: err}
	}
	return nil
}

// columnValue writes DATE and TIME values without the parts they lack.
func columnValue(typ string, v any) any {
	if t, ok := v.(time.Time); ok {
		switch typ {
		case "DATE":
			return t.Format(time.DateOnly)
		case "TIME":
			return t.Format("15:04:05.999999")
		}
	}
	return JSONValue(v)
}

// JSONValue turns a value scanned from DuckDB into one encoding/json can
// write without losing precision or failing: big numbers and decimals as
// strings, non-finite floats as strings, times in RFC 3339, maps as lists
// of key/value pairs.
func JSONValue(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int8, int16, int32, int64, uint8, uint16, uint32, int, uint:
		return x
	case uint64:
		if x > math.MaxInt64 {
			return fmt.Sprint(x)
		}
		return x
	case float32:
		return JSONValue(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
		return x
	case *big.Int:
		return x.String()
	case duckdb.Decimal:
		return x.String()
	case duckdb.UUID:
		return x.String()
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = JSONValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = JSONValue(e)
		}
		return out
	case duckdb.Map:
		out := make([][2]any, 0, len(x))
		for k, e := range x {
			out = append(out, [2]any{JSONValue(k), JSONValue(e)})
		}
		return out
	default:
		return fmt.Sprint(x)
	}
}
