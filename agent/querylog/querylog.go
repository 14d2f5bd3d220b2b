// Package querylog keeps a node's recent queries in a ring of bounded size:
// the oldest entries make room for new ones, so the log never grows.
package querylog

import (
	"sync"

	"github.com/duckfleet/duckfleet/internal/api"
)

// DefaultSize is how many entries a node keeps.
const DefaultSize = 10000

// Ring is safe for concurrent use.
type Ring struct {
	mu      sync.Mutex
	entries []api.QueryLogEntry
	next    int
	full    bool
}

// New returns a ring holding at most size entries.
func New(size int) *Ring {
	return &Ring{entries: make([]api.QueryLogEntry, size)}
}

// Add records an entry, dropping the oldest when full.
func (r *Ring) Add(e api.QueryLogEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries[r.next] = e
	r.next = (r.next + 1) % len(r.entries)
	if r.next == 0 {
		r.full = true
	}
}

// Newest returns up to limit entries, newest first.
func (r *Ring) Newest(limit int) []api.QueryLogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.entries)
	}
	if limit <= 0 || limit > n {
		limit = n
	}
	out := make([]api.QueryLogEntry, 0, limit)
	for i := 1; i <= limit; i++ {
		out = append(out, r.entries[(r.next-i+len(r.entries))%len(r.entries)])
	}
	return out
}
