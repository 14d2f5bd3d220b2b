package sealer

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSealRoundTripAndKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.key")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal(t.Context(), "base64key://secret")
	if err != nil || sealed == "" || sealed == "base64key://secret" {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", st, err)
	}
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Unseal(t.Context(), sealed); err != nil || got != "base64key://secret" {
		t.Errorf("Unseal after reopening = %q, %v", got, err)
	}
	other, _ := Open(filepath.Join(t.TempDir(), "other.key"))
	if _, err := other.Unseal(t.Context(), sealed); err == nil {
		t.Error("another key unsealed it")
	}
}
