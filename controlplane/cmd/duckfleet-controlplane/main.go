// Command duckfleet-controlplane serves the duckfleet control-plane API.
package main

import (
	"context"
	"flag"
	"os"

	"github.com/duckfleet/duckfleet/controlplane"
	"github.com/duckfleet/duckfleet/internal/daemon"
)

func main() { daemon.Main("duckfleet-controlplane", run) }

func run(ctx context.Context, args []string) error {
	interval, err := daemon.EnvDuration("DUCKFLEET_HEARTBEAT_INTERVAL", 0)
	if err != nil {
		return err
	}
	var cfg controlplane.Config
	fs := flag.NewFlagSet("duckfleet-controlplane", flag.ContinueOnError)
	fs.StringVar(&cfg.Listen, "listen", daemon.Env("DUCKFLEET_LISTEN", "127.0.0.1:8470"), "address to serve on [DUCKFLEET_LISTEN]")
	fs.StringVar(&cfg.DataDir, "data-dir", daemon.Env("DUCKFLEET_DATA_DIR", ""), "directory for the store, tokens and keys [DUCKFLEET_DATA_DIR]")
	fs.StringVar(&cfg.Store, "store", daemon.Env("DUCKFLEET_STORE", ""), "store: empty for a DuckDB file in the data dir, or duckdb:///path [DUCKFLEET_STORE]")
	fs.StringVar(&cfg.DefaultStorageURL, "default-storage-url", daemon.Env("DUCKFLEET_DEFAULT_STORAGE_URL", ""), "storage of clusters that name none, a gocloud.dev blob URL (default file://<data-dir>/storage) [DUCKFLEET_DEFAULT_STORAGE_URL]")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", interval, "heartbeat interval agents are told to use (default 2s) [DUCKFLEET_HEARTBEAT_INTERVAL]")
	level := fs.String("log-level", daemon.Env("DUCKFLEET_LOG_LEVEL", "info"), "debug, info, warn or error [DUCKFLEET_LOG_LEVEL]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := daemon.LoggerFromLevel(*level)
	if err != nil {
		return err
	}
	cfg.Log = log
	cfg.AdminToken = os.Getenv("DUCKFLEET_ADMIN_TOKEN")
	cfg.JoinToken = os.Getenv("DUCKFLEET_JOIN_TOKEN")

	srv, err := controlplane.New(ctx, cfg)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
