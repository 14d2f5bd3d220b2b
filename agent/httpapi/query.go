package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckfleet/duckfleet/agent/access"
	"github.com/duckfleet/duckfleet/agent/engine"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/token"
	"github.com/gin-gonic/gin"
)

// Querier runs one user query.
type Querier interface {
	Query(ctx context.Context, tok string, req api.QueryRequest, sink engine.Sink) (engine.Stats, error)
}

func (h *Handler) query(c *gin.Context) {
	tok := token.FromHeader(c.GetHeader("Authorization"))
	if tok == "" {
		c.Header("WWW-Authenticate", `Bearer realm="duckfleet"`)
		problem(c, http.StatusUnauthorized, access.ErrUnauthenticated.Error())
		return
	}
	req, err := decodeQuery(http.MaxBytesReader(c.Writer, c.Request.Body, engine.MaxSQLBytes+1<<20))
	if err != nil {
		problem(c, http.StatusBadRequest, err.Error())
		return
	}
	start := time.Now()
	var st engine.Stats
	defer func() { h.record(c, start, st, err) }()
	if strings.Contains(c.GetHeader("Accept"), api.NDJSONContentType) {
		s := &ndjsonSink{c: c, w: bufio.NewWriterSize(c.Writer, 64<<10)}
		st, err = h.cfg.Querier.Query(c, tok, req, s)
		if err != nil && !s.started {
			h.queryError(c, err)
			return
		}
		s.finish(st, err)
		return
	}
	s := &bufferSink{res: api.QueryResult{Rows: [][]any{}}}
	st, err = h.cfg.Querier.Query(c, tok, req, s)
	if err != nil {
		h.queryError(c, err)
		return
	}
	s.res.RowCount, s.res.Truncated = st.Rows, st.Truncated
	c.JSON(http.StatusOK, s.res)
}

// record adds a query to the node's log: who, what class, how long, how
// many rows, and how it ended. Unauthenticated attempts are logged too.
func (h *Handler) record(c *gin.Context, start time.Time, st engine.Stats, err error) {
	if h.cfg.QueryLog == nil {
		return
	}
	e := api.QueryLogEntry{
		Time: start.UTC(), User: st.User, Class: st.Statement.Class, Rows: st.Rows,
		DurationMillis: float64(time.Since(start).Microseconds()) / 1000, Status: c.Writer.Status(),
	}
	if err != nil {
		// DuckDB quotes the offending SQL after "LINE n:"; the log keeps no SQL.
		e.Error, _, _ = strings.Cut(err.Error(), "\nLINE ")
		e.Error = strings.TrimSpace(e.Error)
	}
	h.cfg.QueryLog.Add(e)
}

// decodeQuery reads {"sql": ..., "params": [...]} strictly; whole numbers
// become int64 so that they bind to integer parameters.
func decodeQuery(r io.Reader) (api.QueryRequest, error) {
	var req api.QueryRequest
	body, err := io.ReadAll(r)
	if err != nil {
		return req, errors.New("cannot read the body: " + err.Error())
	}
	if !utf8.Valid(body) {
		return req, errors.New("the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return req, errors.New("the body must be a JSON object {\"sql\": \"...\", \"params\": [...]}: " + err.Error())
	}
	if strings.TrimSpace(req.SQL) == "" {
		return req, errors.New("sql: is required")
	}
	for i, p := range req.Params {
		req.Params[i] = numberValue(p)
	}
	return req, nil
}

func numberValue(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return f
	}
	return n.String()
}

func (h *Handler) queryError(c *gin.Context, err error) {
	var (
		refusal *access.Refusal
		unver   *engine.Unverifiable
		parse   *engine.ParseError
		qerr    *engine.QueryError
	)
	switch {
	case errors.Is(err, access.ErrUnauthenticated):
		c.Header("WWW-Authenticate", `Bearer realm="duckfleet"`)
		problem(c, http.StatusUnauthorized, err.Error())
	case errors.As(err, &refusal), errors.As(err, &unver):
		problem(c, http.StatusForbidden, "refused: "+err.Error())
	case errors.As(err, &qerr) && qerr.Forbidden():
		problem(c, http.StatusForbidden, "refused by DuckDB: "+err.Error())
	case errors.As(err, &parse), errors.As(err, &qerr), errors.Is(err, engine.ErrMultipleStatements),
		errors.Is(err, engine.ErrBadSQLText), errors.Is(err, engine.ErrTooLong):
		problem(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, engine.ErrTimeout):
		problem(c, http.StatusRequestTimeout, err.Error())
	case errors.Is(err, engine.ErrNoDatabase):
		problem(c, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, context.Canceled):
		problem(c, 499, "the client went away; the query was interrupted")
	default:
		h.cfg.Log.Error("query failed", "err", err)
		problem(c, http.StatusInternalServerError, "the query failed on the node; see its log")
	}
}

// bufferSink collects a result for one JSON answer.
type bufferSink struct{ res api.QueryResult }

func (s *bufferSink) Columns(names, types []string) error {
	s.res.Columns, s.res.Types = names, types
	return nil
}

func (s *bufferSink) Row(v []any) error {
	s.res.Rows = append(s.res.Rows, v)
	return nil
}

// ndjsonSink writes each row as it is read, flushing every so often, so a
// large result is never held whole by the agent.
type ndjsonSink struct {
	c       *gin.Context
	w       *bufio.Writer
	buf     bytes.Buffer
	started bool
	n       int
}

func (s *ndjsonSink) line(v any) error {
	s.buf.Reset()
	if err := json.NewEncoder(&s.buf).Encode(v); err != nil {
		return err
	}
	_, err := s.w.Write(s.buf.Bytes())
	return err
}

// Streaming asks the engine for rows chunk by chunk.
func (s *ndjsonSink) Streaming() bool { return true }

func (s *ndjsonSink) Columns(names, types []string) error {
	s.started = true
	s.c.Header("Content-Type", api.NDJSONContentType)
	s.c.Status(http.StatusOK)
	return s.line(map[string]any{"columns": names, "types": types})
}

func (s *ndjsonSink) Row(v []any) error {
	if err := s.line(v); err != nil {
		return err
	}
	s.n++
	if s.n%4096 == 0 {
		if err := s.w.Flush(); err != nil {
			return err
		}
		s.c.Writer.Flush()
	}
	return nil
}

func (s *ndjsonSink) finish(st engine.Stats, err error) {
	if err != nil {
		_ = s.line(map[string]any{"error": err.Error(), "row_count": st.Rows})
	} else {
		_ = s.line(map[string]any{"row_count": st.Rows, "truncated": st.Truncated})
	}
	_ = s.w.Flush()
	s.c.Writer.Flush()
}
