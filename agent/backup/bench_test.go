package backup

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

// BenchmarkBackupRestore backs up and restores a database of about 1 GB
// (DUCKFLEET_BENCH_ROWS rows, 88M by default: a sequential id, a derived
// integer, a random double and a string of 100k distinct values) to
// file:// storage, in each format, and compares the rates with a plain
// copy of the database file on the same disk in the same run.
// Target: backup and restore each at least 50% of the copy rate.
// image-MB/s is the rate of making the image alone, in the spool, before
// any upload (for parquet: DuckDB's EXPORT DATABASE), the ceiling of the
// backup rate.
func BenchmarkBackupRestore(b *testing.B) {
	rows := 88_000_000
	if v, err := strconv.Atoi(os.Getenv("DUCKFLEET_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	src := benchEngine(b)
	runB(b, src, "CREATE TABLE big AS SELECT i AS id, i * 7 AS a, random() AS r, 'row-' || (i % 100000) AS s FROM range("+strconv.Itoa(rows)+") t(i)")
	if _, err := src.Snapshot(b.Context(), b.TempDir()); err != nil { // checkpointed: the file holds it all
		b.Fatal(err)
	}
	info, err := os.Stat(src.Path("c"))
	if err != nil {
		b.Fatal(err)
	}
	size := float64(info.Size()) / 1e6
	for _, format := range api.Formats {
		b.Run(format, func(b *testing.B) {
			dir := b.TempDir()
			var copyRate, imageRate, backupRate, restoreRate float64
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				copyFile(b, src.Path("c"), filepath.Join(dir, "copy.duckdb"))
				copyRate = size / time.Since(t0).Seconds()
				os.Remove(filepath.Join(dir, "copy.duckdb"))

				spool, err := src.SpoolDir("bench")
				if err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				if format == api.FormatParquet {
					_, err = src.Export(b.Context(), spool, "")
				} else {
					_, err = src.Snapshot(b.Context(), spool)
				}
				if err != nil {
					b.Fatal(err)
				}
				imageRate = size / time.Since(t3).Seconds()
				os.RemoveAll(spool)

				bucket := openBucketB(b, "file://"+filepath.Join(dir, "store")+"?create_dir=true")
				id := "b" + strconv.Itoa(i)
				t1 := time.Now()
				if _, err := Create(b.Context(), src, bucket, Spec{Prefix: "p", Cluster: "c", ID: id, Format: format}, nil); err != nil {
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
				if err := Delete(b.Context(), bucket, "p", id); err != nil {
					b.Fatal(err)
				}
				bucket.Close()
			}
			b.ReportMetric(size, "db-MB")
			b.ReportMetric(copyRate, "copy-MB/s")
			b.ReportMetric(imageRate, "image-MB/s")
			b.ReportMetric(backupRate, "backup-MB/s")
			b.ReportMetric(restoreRate, "restore-MB/s")
			b.ReportMetric(100*backupRate/copyRate, "backup-%-of-copy")
			b.ReportMetric(100*restoreRate/copyRate, "restore-%-of-copy")
		})
	}
}

// copyFile is the yardstick: the database file read and written whole,
// and synced.
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
