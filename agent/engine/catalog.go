package engine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// userObjects are the tables, views and macros users created: a statement
// that names a view or macro, or a name that is not a table, needs its plan
// to be understood, since only the planner sees what they read.
type userObjects struct {
	tables map[string]bool // "schema.name", lower case
	views  map[string]bool // "schema.name", lower case
	macros map[string]bool // name, lower case, any schema
}

// simpleRefs are the kinds of table reference and query node whose meaning
// the syntax tree shows in full. Anything else (SHOW, PIVOT, ...) is planned.
var simpleRefs = map[string]bool{
	"BASE_TABLE": true, "JOIN": true, "SUBQUERY": true, "EMPTY": true, "EMPTY_FROM": true, "TABLE_FUNCTION": true, "EXPRESSION_LIST": true,
	"SELECT_NODE": true, "SET_OPERATION_NODE": true, "CTE_NODE": true, "RECURSIVE_CTE_NODE": true,
}

// simple reports whether a SELECT's syntax tells all its plan would.
func (o *userObjects) simple(s syntax, database string) bool {
	for _, r := range s.refTypes {
		if !simpleRefs[r] {
			return false
		}
	}
	for _, t := range s.tables {
		if t.Catalog != "" && !strings.EqualFold(t.Catalog, database) {
			return false
		}
		// Only real tables: a name DuckDB would resolve some other way
		// (a view, or a replacement scan of a file path) needs the plan.
		if key := strings.ToLower(t.Schema + "." + t.Name); o.views[key] || !o.tables[key] {
			return false
		}
	}
	for _, f := range s.funcs {
		if o.macros[f] {
			return false
		}
	}
	for _, f := range s.tableFuncs {
		if o.macros[strings.ToLower(f)] {
			return false
		}
	}
	return true
}

// userObjects returns the database's user-defined views and macros, read
// again after every change of the catalog.
func (e *Engine) userObjects(ctx context.Context, conn *sql.Conn) (*userObjects, error) {
	if o := e.objects.Load(); o != nil {
		return o, nil
	}
	o := &userObjects{tables: map[string]bool{}, views: map[string]bool{}, macros: map[string]bool{}}
	if err := scanNames(ctx, conn, `SELECT lower(schema_name || '.' || table_name) FROM duckdb_tables() WHERE NOT internal`, o.tables); err != nil {
		return nil, err
	}
	if err := scanNames(ctx, conn, `SELECT lower(schema_name || '.' || view_name) FROM duckdb_views() WHERE NOT internal`, o.views); err != nil {
		return nil, err
	}
	if err := scanNames(ctx, conn, `SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE NOT internal`, o.macros); err != nil {
		return nil, err
	}
	e.objects.Store(o)
	return o, nil
}

func scanNames(ctx context.Context, conn *sql.Conn, query string, into map[string]bool) error {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("read the catalog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return fmt.Errorf("read the catalog: %w", err)
		}
		into[n] = true
	}
	return rows.Err()
}

// catalogChanged drops the cached views and macros.
func (e *Engine) catalogChanged() { e.objects.Store(nil) }
