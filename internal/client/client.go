// Package client is the typed Go client of the duckfleet control-plane API
// (used by the provider and the agents) and of the agent API (used by the
// control plane to push configs).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

// Client calls the control-plane API with one bearer token.
type Client struct {
	base      *url.URL
	token     string
	http      *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the default HTTP client.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client for the control plane at endpoint (an http(s) URL).
func New(endpoint, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q is not an http(s) URL such as http://127.0.0.1:8470", endpoint)
	}
	c := &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second}, userAgent: "duckfleet-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Endpoint returns the control plane's base URL.
func (c *Client) Endpoint() string { return c.base.String() }

// Error is an answer with an error status from the API.
type Error struct {
	Method     string
	URL        string
	StatusCode int
	Problem    api.Problem
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.StatusCode, e.Problem.Error())
}

// StatusCode returns the HTTP status of an *Error in err's chain, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// ETag renders a generation as an ETag header value.
func ETag(generation int64) string { return `"` + strconv.FormatInt(generation, 10) + `"` }

// request is one call; zero fields are left out.
type request struct {
	method  string
	path    string
	query   url.Values
	ifMatch int64
	in      any
	out     any
}

func (c *Client) do(ctx context.Context, r request) error {
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	var body io.Reader
	if r.in != nil {
		b, err := json.Marshal(r.in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return err
	}
	if r.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if r.ifMatch != 0 {
		req.Header.Set("If-Match", ETag(r.ifMatch))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the duckfleet control plane at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	return decodeAnswer(resp, r.out)
}

// decodeAnswer reads a JSON answer into out, or turns an error status into *Error.
func decodeAnswer(resp *http.Response, out any) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", resp.Request.Method, resp.Request.URL, err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Method: resp.Request.Method, URL: resp.Request.URL.String(), StatusCode: resp.StatusCode}
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if mt == api.ProblemContentType || mt == "application/json" {
			_ = json.Unmarshal(b, &e.Problem)
		}
		if e.Problem.Title == "" {
			e.Problem.Title = http.StatusText(resp.StatusCode)
			e.Problem.Detail = strings.TrimSpace(string(b))
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", resp.Request.Method, resp.Request.URL, err)
	}
	return nil
}
