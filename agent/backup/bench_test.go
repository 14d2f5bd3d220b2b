package backup

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkBackupRestore backs up and restores a database of about 1 GB
// (DUCKFLEET_BENCH_ROWS rows, 40M by default) to file:// storage and
// compares the rates with a plain copy of the database file on the same
// disk in the same run. Target: each at least 50% of the copy rate.
func BenchmarkBackupRestore(b *testing.B) {
	rows := 40_000_000
	if v, err := strconv.Atoi(os.Getenv("DUCKFLEET_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	src := benchEngine(b)
	runB(b, src, "CREATE TABLE big AS SELECT i AS id, i * 7 AS a, random() AS r, 'row-' || (i % 100000) AS s FROM range("+strconv.Itoa(rows)+") t(i)")
	runB(b, src, "CHECKPOINT")
	info, err := os.Stat(src.Path("c"))
	if err != nil {
		b.Fatal(err)
	}
	size := float64(info.Size()) / 1e6
	dir := b.TempDir()
	var copyRate, backupRate, restoreRate float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		copyFile(b, src.Path("c"), filepath.Join(dir, "copy.duckdb"))
		copyRate = size / time.Since(t0).Seconds()
		os.Remove(filepath.Join(dir, "copy.duckdb"))

		bucket := openBucketB(b, "file://"+filepath.Join(dir, "store")+"?create_dir=true")
		id := "b" + strconv.Itoa(i)
		t1 := time.Now()
		if _, err := Create(b.Context(), src, bucket, "p", "c", id, "zstd", "", nil); err != nil {
			b.Fatal(err)
		}
		backupRate = size / time.Since(t1).Seconds()

		dst := benchEngine(b)
		t2 := time.Now()
		if _, err := Restore(b.Context(), dst, bucket, "p", id, "", nil); err != nil {
			b.Fatal(err)
		}
		restoreRate = size / time.Since(t2).Seconds()
		dst.Close()
		bucket.Close()
	}
	b.StopTimer()
	b.ReportMetric(size, "db-MB")
	b.ReportMetric(copyRate, "copy-MB/s")
	b.ReportMetric(backupRate, "backup-MB/s")
	b.ReportMetric(restoreRate, "restore-MB/s")
	b.ReportMetric(100*backupRate/copyRate, "backup-%-of-copy")
	b.ReportMetric(100*restoreRate/copyRate, "restore-%-of-copy")
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
	out.Close()
}
