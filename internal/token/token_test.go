package token

import (
	"strings"
	"testing"
)

func TestNewAndMatch(t *testing.T) {
	t.Parallel()
	a, b := New(PrefixAdmin), New(PrefixAdmin)
	if a == b || !strings.HasPrefix(a, PrefixAdmin) || len(a) < 40 {
		t.Fatalf("New returned %q and %q", a, b)
	}
	if !Matches(a, Hash(a)) || Matches(b, Hash(a)) {
		t.Error("Matches disagrees with Hash")
	}
}

func TestFromHeader(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"Bearer abc":   "abc",
		"bearer abc ":  "abc",
		"Basic abc":    "",
		"Bearer":       "",
		"":             "",
		"Bearer  x y ": "x y",
	}
	for in, want := range tests {
		if got := FromHeader(in); got != want {
			t.Errorf("FromHeader(%q) = %q, want %q", in, got, want)
		}
	}
}
