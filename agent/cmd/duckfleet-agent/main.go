// Command duckfleet-agent runs one duckfleet node.
package main

import (
	"context"
	"flag"

	"github.com/duckfleet/duckfleet/agent"
	"github.com/duckfleet/duckfleet/internal/daemon"
)

func main() { daemon.Main("duckfleet-agent", run) }

func run(ctx context.Context, args []string) error {
	interval, err := daemon.EnvDuration("DUCKFLEET_HEARTBEAT_INTERVAL", 0)
	if err != nil {
		return err
	}
	var cfg agent.Config
	fs := flag.NewFlagSet("duckfleet-agent", flag.ContinueOnError)
	fs.StringVar(&cfg.ControlPlane, "controlplane", daemon.Env("DUCKFLEET_CONTROLPLANE", ""), "control plane URL, such as http://127.0.0.1:8470 [DUCKFLEET_CONTROLPLANE]")
	fs.StringVar(&cfg.JoinTokenFile, "join-token-file", daemon.Env("DUCKFLEET_JOIN_TOKEN_FILE", ""), "file holding the join token (first start only) [DUCKFLEET_JOIN_TOKEN_FILE]")
	fs.StringVar(&cfg.Pool, "pool", daemon.Env("DUCKFLEET_POOL", "default"), "pool to join [DUCKFLEET_POOL]")
	fs.StringVar(&cfg.DataDir, "data-dir", daemon.Env("DUCKFLEET_DATA_DIR", ""), "directory for the identity and the database [DUCKFLEET_DATA_DIR]")
	fs.StringVar(&cfg.Listen, "listen", daemon.Env("DUCKFLEET_LISTEN", "127.0.0.1:8471"), "address to serve on [DUCKFLEET_LISTEN]")
	fs.StringVar(&cfg.AdvertiseURL, "advertise-url", daemon.Env("DUCKFLEET_ADVERTISE_URL", ""), "URL others reach this agent at (default http://<listen address>) [DUCKFLEET_ADVERTISE_URL]")
	fs.StringVar(&cfg.StorageURL, "storage-url", daemon.Env("DUCKFLEET_STORAGE_URL", ""), "cloud storage for this node: file:///dir, s3://bucket?..., gs://bucket, azblob://container; credentials come from the environment (default file://<data-dir>/storage) [DUCKFLEET_STORAGE_URL]")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", interval, "override the heartbeat interval the control plane asks for [DUCKFLEET_HEARTBEAT_INTERVAL]")
	level := fs.String("log-level", daemon.Env("DUCKFLEET_LOG_LEVEL", "info"), "debug, info, warn or error [DUCKFLEET_LOG_LEVEL]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := daemon.LoggerFromLevel(*level)
	if err != nil {
		return err
	}
	cfg.Log = log
	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
