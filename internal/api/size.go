package api

import (
	"fmt"
	"math/big"
	"strings"
)

// sizeUnits lists the units a size may use, largest first; CanonicalSize
// writes a size with the first of them that divides it exactly.
var sizeUnits = []struct {
	name  string
	bytes int64
}{
	{"TiB", 1 << 40}, {"TB", 1e12},
	{"GiB", 1 << 30}, {"GB", 1e9},
	{"MiB", 1 << 20}, {"MB", 1e6},
	{"KiB", 1 << 10}, {"KB", 1e3},
	{"B", 1},
}

// SizeUnitsHelp lists the accepted units for error messages and docs.
const SizeUnitsHelp = "B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)"

// ParseSize reads a size such as "512MiB", "4GB", "1.5 GiB" or "4gb" and
// returns it in bytes. Units are case-insensitive; a unit is required; the
// result must be a whole, positive number of bytes.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty size: write a number followed by a unit, such as \"512MiB\" or \"4GB\"")
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if num == "" {
		if strings.HasPrefix(t, "-") {
			return 0, fmt.Errorf("%q is negative: a size must be positive", s)
		}
		return 0, fmt.Errorf("%q is not a size: write a number followed by a unit, such as \"512MiB\" or \"4GB\"", s)
	}
	if unit == "" {
		return 0, fmt.Errorf("%q has no unit: use one of %s", s, SizeUnitsHelp)
	}
	var factor int64
	for _, u := range sizeUnits {
		if strings.EqualFold(unit, u.name) {
			factor = u.bytes
			break
		}
	}
	if factor == 0 {
		return 0, fmt.Errorf("%q has an unknown unit %q: use one of %s", s, unit, SizeUnitsHelp)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("%q is not a size: %q is not a number", s, num)
	}
	r.Mul(r, new(big.Rat).SetInt64(factor))
	if !r.IsInt() {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	n := r.Num()
	if !n.IsInt64() || n.Int64() > 1<<50 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if n.Sign() <= 0 {
		return 0, fmt.Errorf("%q is zero: a size must be positive", s)
	}
	return n.Int64(), nil
}

// FormatSize writes a number of bytes with the largest unit that divides it
// exactly, so that every spelling of one size has one canonical form.
func FormatSize(bytes int64) string {
	for _, u := range sizeUnits {
		if bytes%u.bytes == 0 {
			return fmt.Sprintf("%d%s", bytes/u.bytes, u.name)
		}
	}
	return fmt.Sprintf("%dB", bytes)
}

// CanonicalSize parses s and writes it back in canonical form:
// "0.5GiB" and "512mib" both become "512MiB", "4gb" becomes "4GB".
func CanonicalSize(s string) (string, error) {
	n, err := ParseSize(s)
	if err != nil {
		return "", err
	}
	return FormatSize(n), nil
}

// SameSize reports whether a and b spell the same number of bytes.
// Unparsable sizes are equal only when the strings are.
func SameSize(a, b string) bool {
	na, errA := ParseSize(a)
	nb, errB := ParseSize(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return na == nb
}
