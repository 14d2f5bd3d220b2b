package querylog

import (
	"testing"

	"github.com/duckfleet/duckfleet/internal/api"
)

func TestRingIsBounded(t *testing.T) {
	t.Parallel()
	r := New(3)
	if got := r.Newest(10); len(got) != 0 {
		t.Fatalf("empty ring: %v", got)
	}
	for i := int64(1); i <= 5; i++ {
		r.Add(api.QueryLogEntry{Rows: i})
	}
	got := r.Newest(0)
	if len(got) != 3 || got[0].Rows != 5 || got[1].Rows != 4 || got[2].Rows != 3 {
		t.Errorf("Newest = %+v, want rows 5, 4, 3", got)
	}
	if got := r.Newest(1); len(got) != 1 || got[0].Rows != 5 {
		t.Errorf("Newest(1) = %+v", got)
	}
}
