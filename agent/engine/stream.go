package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"
	"unsafe"

	bindings "github.com/duckdb/duckdb-go-bindings"
)

// Streaming reads a SELECT's result chunk by chunk with DuckDB's streaming
// API, so a large result is never held whole, neither by DuckDB nor by
// the agent. duckdb-go's database/sql path materialises every result before
// the first row, and does not expose the connection it wraps; rawConnection
// reads it from duckdb-go's *Conn (pinned version; TestRawConnection fails
// if that ever changes, and the query falls back to the materialising path).

// streamTypes are the column types the streaming reader decodes, with the
// names the API reports; results with other types take the database/sql path.
var streamTypes = map[bindings.Type]string{
	bindings.TypeBoolean: "BOOLEAN", bindings.TypeTinyInt: "TINYINT", bindings.TypeSmallInt: "SMALLINT",
	bindings.TypeInteger: "INTEGER", bindings.TypeBigInt: "BIGINT", bindings.TypeUTinyInt: "UTINYINT",
	bindings.TypeUSmallInt: "USMALLINT", bindings.TypeUInteger: "UINTEGER", bindings.TypeUBigInt: "UBIGINT",
	bindings.TypeFloat: "FLOAT", bindings.TypeDouble: "DOUBLE", bindings.TypeVarchar: "VARCHAR",
	bindings.TypeDate: "DATE", bindings.TypeTimestamp: "TIMESTAMP",
}

var errCannotStream = errors.New("result cannot be streamed")

// rawConnection returns the DuckDB connection inside a duckdb-go driver
// connection.
func rawConnection(dc any) (bindings.Connection, error) {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return bindings.Connection{}, errCannotStream
	}
	f := v.Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != reflect.TypeFor[bindings.Connection]() || !f.CanAddr() {
		return bindings.Connection{}, errCannotStream
	}
	c := *(*bindings.Connection)(unsafe.Pointer(f.UnsafeAddr()))
	if c.Ptr == nil {
		return bindings.Connection{}, errCannotStream
	}
	return c, nil
}

// stream runs a SELECT on rc with DuckDB's streaming API. It returns
// errCannotStream, having sent nothing to sink, when a parameter or result
// column has a type it does not handle.
func stream(ctx context.Context, rc bindings.Connection, q Query, sink Sink, st *Stats) error {
	var ps bindings.PreparedStatement
	if bindings.Prepare(rc, q.SQL, &ps) == bindings.StateError {
		msg := bindings.PrepareError(ps)
		bindings.DestroyPrepare(&ps)
		return &QueryError{Err: errors.New(msg)}
	}
	defer bindings.DestroyPrepare(&ps)
	for i, p := range q.Params {
		idx := bindings.IdxT(i + 1)
		var state bindings.State
		switch v := p.(type) {
		case nil:
			state = bindings.BindNull(ps, idx)
		case bool:
			state = bindings.BindBoolean(ps, idx, v)
		case int64:
			state = bindings.BindInt64(ps, idx, v)
		case float64:
			state = bindings.BindDouble(ps, idx, v)
		case string:
			state = bindings.BindVarchar(ps, idx, v)
		default:
			return errCannotStream
		}
		if state == bindings.StateError {
			return &QueryError{Err: fmt.Errorf("cannot bind parameter %d", i+1)}
		}
	}
	var res bindings.Result
	if bindings.ExecutePreparedStreaming(ps, &res) == bindings.StateError {
		msg := bindings.ResultError(&res)
		bindings.DestroyResult(&res)
		return &QueryError{Err: errors.New(msg)}
	}
	defer bindings.DestroyResult(&res)
	n := int(bindings.ColumnCount(&res))
	names, typeNames := make([]string, n), make([]string, n)
	types := make([]bindings.Type, n)
	for i := range n {
		types[i] = bindings.ColumnType(&res, bindings.IdxT(i))
		name, ok := streamTypes[types[i]]
		if !ok {
			return errCannotStream
		}
		names[i], typeNames[i] = bindings.ColumnName(&res, bindings.IdxT(i)), name
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			bindings.Interrupt(rc)
		case <-done:
		}
	}()
	if err := sink.Columns(names, typeNames); err != nil {
		return err
	}
	st.Streamed = true
	for {
		chunk := bindings.FetchChunk(res)
		if chunk.Ptr == nil {
			if msg := bindings.ResultError(&res); msg != "" {
				return &QueryError{Err: errors.New(msg)}
			}
			return nil
		}
		err := emitChunk(chunk, types, q.MaxRows, sink, st)
		bindings.DestroyDataChunk(&chunk)
		if err != nil || st.Truncated {
			return err
		}
	}
}

// emitChunk decodes one chunk's rows and hands them to sink.
func emitChunk(chunk bindings.DataChunk, types []bindings.Type, maxRows int64, sink Sink, st *Stats) error {
	size := int(bindings.DataChunkGetSize(chunk))
	data := make([]unsafe.Pointer, len(types))
	valid := make([]unsafe.Pointer, len(types))
	for c := range types {
		vec := bindings.DataChunkGetVector(chunk, bindings.IdxT(c))
		data[c], valid[c] = bindings.VectorGetData(vec), bindings.VectorGetValidity(vec)
	}
	for r := range size {
		if maxRows > 0 && st.Rows >= maxRows {
			st.Truncated = true
			return nil
		}
		row := make([]any, len(types))
		for c, t := range types {
			if valid[c] != nil && !bindings.ValidityRowIsValid(valid[c], bindings.IdxT(r)) {
				continue
			}
			row[c] = decode(t, data[c], r)
		}
		if err := sink.Row(row); err != nil {
			return err
		}
		st.Rows++
	}
	return nil
}

// decode reads row r of a flat vector of type t.
func decode(t bindings.Type, p unsafe.Pointer, r int) any {
	switch t {
	case bindings.TypeBoolean:
		return *(*bool)(unsafe.Add(p, r))
	case bindings.TypeTinyInt:
		return *(*int8)(unsafe.Add(p, r))
	case bindings.TypeSmallInt:
		return *(*int16)(unsafe.Add(p, 2*r))
	case bindings.TypeInteger:
		return *(*int32)(unsafe.Add(p, 4*r))
	case bindings.TypeBigInt:
		return *(*int64)(unsafe.Add(p, 8*r))
	case bindings.TypeUTinyInt:
		return *(*uint8)(unsafe.Add(p, r))
	case bindings.TypeUSmallInt:
		return *(*uint16)(unsafe.Add(p, 2*r))
	case bindings.TypeUInteger:
		return *(*uint32)(unsafe.Add(p, 4*r))
	case bindings.TypeUBigInt:
		return JSONValue(*(*uint64)(unsafe.Add(p, 8*r)))
	case bindings.TypeFloat:
		return JSONValue(float64(*(*float32)(unsafe.Add(p, 4*r))))
	case bindings.TypeDouble:
		return JSONValue(*(*float64)(unsafe.Add(p, 8*r)))
	case bindings.TypeDate:
		days := *(*int32)(unsafe.Add(p, 4*r))
		return time.Unix(int64(days)*86400, 0).UTC().Format(time.DateOnly)
	case bindings.TypeTimestamp:
		us := *(*int64)(unsafe.Add(p, 8*r))
		if us == math.MaxInt64 || us == -math.MaxInt64 {
			return fmt.Sprint(us) // infinity
		}
		return time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
	case bindings.TypeVarchar:
		return readString(unsafe.Add(p, 16*r))
	}
	return nil
}

// readString reads a duckdb_string_t: 4 bytes of length, then the bytes
// inline when at most 12, else 4 bytes of prefix and a pointer.
func readString(s unsafe.Pointer) string {
	n := *(*uint32)(s)
	if n <= 12 {
		return string(unsafe.Slice((*byte)(unsafe.Add(s, 4)), n))
	}
	ptr := *(*unsafe.Pointer)(unsafe.Add(s, 8))
	return string(unsafe.Slice((*byte)(ptr), n))
}
