// Package fleettest starts real duckfleet processes for tests: a control
// plane and agents, each with its own data directory and a loopback port.
// Binaries are built once per test process (or taken from
// DUCKFLEET_BIN_DIR); every process is stopped when its test ends, and its
// log is printed when the test failed.
package fleettest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
)

// Require skips the test unless real processes are wanted: TF_ACC (the
// acceptance run of make test) or DUCKFLEET_E2E is set. This keeps a plain
// go test ./... quick.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" && os.Getenv("DUCKFLEET_E2E") == "" {
		t.Skip("starts real processes: set TF_ACC=1 or DUCKFLEET_E2E=1 (make test does)")
	}
}

// Names of the binaries.
const (
	ControlPlaneBinary = "duckfleet-controlplane"
	AgentBinary        = "duckfleet-agent"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
	tmpBinDir string
)

// Main runs a package's tests and removes binaries built for them.
// Use it from TestMain: func TestMain(m *testing.M) { fleettest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if tmpBinDir != "" {
		os.RemoveAll(tmpBinDir)
	}
	os.Exit(code)
}

// Binaries returns the directory holding the server binaries, building
// them on first use unless DUCKFLEET_BIN_DIR names a directory that has them.
func Binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if d := os.Getenv("DUCKFLEET_BIN_DIR"); d != "" {
			binDir = d
			for _, b := range []string{ControlPlaneBinary, AgentBinary} {
				if _, err := os.Stat(filepath.Join(d, b)); err != nil {
					buildErr = fmt.Errorf("DUCKFLEET_BIN_DIR=%s: %w", d, err)
				}
			}
			return
		}
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		tmpBinDir, err = os.MkdirTemp("", "duckfleet-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = tmpBinDir
		cmd := exec.Command("go", "build", "-o", binDir+string(filepath.Separator),
			"./controlplane/cmd/"+ControlPlaneBinary, "./agent/cmd/"+AgentBinary)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build binaries: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the duckfleet module")
	}
	return filepath.Dir(mod), nil
}

// Process is one running binary.
type Process struct {
	Name    string
	DataDir string
	// URL is http://<bound address>.
	URL  string
	args []string
	bin  string
	env  []string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

func start(t testing.TB, name, bin, dataDir, addrFile string, env []string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: name, DataDir: dataDir, args: args, bin: bin, env: env}
	p.launch(t, addrFile)
	t.Cleanup(func() {
		p.Stop(t)
		if t.Failed() {
			p.dumpLog(t)
		}
	})
	return p
}

func (p *Process) launch(t testing.TB, addrFile string) {
	t.Helper()
	if err := os.MkdirAll(p.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	addrPath := filepath.Join(p.DataDir, addrFile)
	os.Remove(addrPath)
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(p.DataDir), p.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", p.Name, err)
	}
	p.cmd, p.log, p.done = cmd, logf, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(addrPath); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			p.URL = "http://" + strings.TrimSpace(string(b))
			return
		}
		select {
		case <-p.done:
			p.dumpLog(t)
			t.Fatalf("%s exited before it listened: %v", p.Name, cmd.ProcessState)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.dumpLog(t)
			t.Fatalf("%s did not listen within a minute", p.Name)
		}
	}
}

// Stop ends the process with SIGTERM (SIGKILL after 15 s) and waits for it.
func (p *Process) Stop(t testing.TB) {
	p.signal(t, syscall.SIGTERM, 15*time.Second)
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Process) Kill(t testing.TB) {
	p.signal(t, syscall.SIGKILL, 15*time.Second)
}

func (p *Process) signal(t testing.TB, sig syscall.Signal, grace time.Duration) {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(grace):
			t.Errorf("%s did not stop within %s of %v; killing it", p.Name, grace, sig)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.log.Close()
	p.cmd = nil
}

// Restart stops the process and starts it again with the same data dir
// on the same address, so that peers configured with its URL reach it.
func (p *Process) Restart(t testing.TB, addrFile string) {
	t.Helper()
	p.Stop(t)
	for i, a := range p.args {
		if a == "--listen" && i+1 < len(p.args) {
			p.args[i+1] = strings.TrimPrefix(p.URL, "http://")
		}
	}
	p.launch(t, addrFile)
}

// Log returns what the process wrote so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(p.DataDir), p.Name+".log"))
	return string(b)
}

func (p *Process) dumpLog(t testing.TB) {
	l := p.Log()
	if len(l) > 8000 {
		l = "...\n" + l[len(l)-8000:]
	}
	t.Logf("---- log of %s ----\n%s", p.Name, l)
}

// Fleet is a control plane and its agents.
type Fleet struct {
	dir          string
	ControlPlane *Process
	Agents       []*Process
	AdminToken   string
	JoinToken    string
	// S3URL is the gocloud URL of the moto bucket (Options.S3).
	S3URL    string
	agentEnv []string
	interval time.Duration
}

// Options shape a fleet.
type Options struct {
	// Agents is how many agents to start in pool "default".
	Agents int
	// HeartbeatInterval defaults to 300ms, so tests converge quickly.
	HeartbeatInterval time.Duration
	// S3 starts a moto_server on loopback with a bucket, gives the agents
	// its credentials, and sets Fleet.S3URL.
	S3 bool
}

// Start starts a control plane and opts.Agents agents, and waits until
// every agent is registered and healthy.
func Start(t testing.TB, opts Options) *Fleet {
	t.Helper()
	Require(t)
	bins := Binaries(t)
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = 300 * time.Millisecond
	}
	dir := t.TempDir()
	f := &Fleet{dir: dir, AdminToken: "dfa_fleettest-admin-" + randomSuffix(), JoinToken: "dfj_fleettest-join-" + randomSuffix(), interval: opts.HeartbeatInterval}
	if opts.S3 {
		f.S3URL = StartMoto(t, "fleet")
		f.agentEnv = []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"}
	}
	f.ControlPlane = start(t, "controlplane", filepath.Join(bins, ControlPlaneBinary), filepath.Join(dir, "controlplane"), "controlplane.addr",
		[]string{"DUCKFLEET_ADMIN_TOKEN=" + f.AdminToken, "DUCKFLEET_JOIN_TOKEN=" + f.JoinToken},
		"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "controlplane"),
		"--heartbeat-interval", opts.HeartbeatInterval.String(), "--log-level", "debug")
	for range opts.Agents {
		f.AddAgent(t, api.DefaultPool)
	}
	f.WaitHealthy(t, opts.Agents)
	return f
}

func randomSuffix() string { return fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()) }

// AddAgent starts one more agent in pool.
func (f *Fleet) AddAgent(t testing.TB, pool string) *Process {
	t.Helper()
	name := fmt.Sprintf("agent%d", len(f.Agents)+1)
	joinFile := filepath.Join(f.dir, "join.token")
	if err := os.WriteFile(joinFile, []byte(f.JoinToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := start(t, name, filepath.Join(Binaries(t), AgentBinary), filepath.Join(f.dir, name), "agent.addr", f.agentEnv,
		"--controlplane", f.ControlPlane.URL, "--join-token-file", joinFile, "--pool", pool,
		"--data-dir", filepath.Join(f.dir, name), "--listen", "127.0.0.1:0", "--log-level", "debug")
	f.Agents = append(f.Agents, a)
	return a
}

// Client returns an admin client of the control plane.
func (f *Fleet) Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(f.ControlPlane.URL, f.AdminToken)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// WaitHealthy waits until at least n nodes are registered and healthy.
func (f *Fleet) WaitHealthy(t testing.TB, n int) []api.Node {
	t.Helper()
	var nodes []api.Node
	f.Eventually(t, 30*time.Second, func(ctx context.Context) error {
		var err error
		nodes, err = f.Client(t).ListNodes(ctx, "")
		if err != nil {
			return err
		}
		healthy := 0
		for _, n := range nodes {
			if n.Healthy {
				healthy++
			}
		}
		if healthy < n {
			return fmt.Errorf("%d of %d nodes healthy", healthy, n)
		}
		return nil
	})
	return nodes
}

// Eventually retries check until it returns nil or timeout passes.
func (f *Fleet) Eventually(t testing.TB, timeout time.Duration, check func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var err error
	for {
		if err = check(ctx); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not within %s: %v", timeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// StartMoto starts moto_server (an S3-protocol server) on a free loopback
// port with one bucket, stops it when the test ends, and returns the
// bucket's gocloud.dev URL. The credentials are test/test.
func StartMoto(t testing.TB, bucket string) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server is not installed (pip install 'moto[server]'): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPut, endpoint+"/"+bucket, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer within 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Sprintf("s3://%s?endpoint=%s&region=us-east-1&use_path_style=true&disable_https=true", bucket, endpoint)
}
