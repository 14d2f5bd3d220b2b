// Package push holds the config every node should run and pushes it to the
// node whenever it changes, retrying failed pushes with capped exponential
// backoff until the node runs it or a newer config supersedes it. Pushes
// are an accelerator: an agent that missed one learns of its desired
// revision from its next heartbeat answer and pulls the config.
package push

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
)

// Target is what one node should run and where to reach it.
type Target struct {
	Endpoint string
	Config   api.NodeConfig
}

// Client sends one config to one agent.
type Client interface {
	PushConfig(ctx context.Context, endpoint string, cfg api.NodeConfig) error
}

// Backoff bounds the delay between retries of a failed push.
type Backoff struct {
	Initial, Max time.Duration
}

// Pusher is safe for concurrent use.
type Pusher struct {
	client  Client
	log     *slog.Logger
	workers int
	backoff Backoff

	mu        sync.Mutex
	cond      *sync.Cond
	targets   map[string]Target
	delivered map[string]api.Revision // revision each node is known to run or have accepted
	attempts  map[string]int
	queue     []string
	queued    map[string]bool
	closed    bool
}

// New returns a Pusher with the given number of concurrent pushes.
func New(c Client, log *slog.Logger, workers int, b Backoff) *Pusher {
	p := &Pusher{
		client: c, log: log, workers: workers, backoff: b,
		targets: map[string]Target{}, delivered: map[string]api.Revision{},
		attempts: map[string]int{}, queued: map[string]bool{},
	}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// Publish replaces the set of targets; changed ones are pushed.
func (p *Pusher) Publish(targets map[string]Target) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.targets {
		if _, ok := targets[id]; !ok {
			delete(p.targets, id)
			delete(p.delivered, id)
			delete(p.attempts, id)
		}
	}
	for id, t := range targets {
		old, ok := p.targets[id]
		p.targets[id] = t
		// A config's revision changes with everything in it.
		if ok && old.Endpoint == t.Endpoint && (old.Config.Revision == t.Config.Revision || p.delivered[id] == t.Config.Revision) {
			continue
		}
		p.attempts[id] = 0
		p.enqueueLocked(id)
	}
}

// Desired returns the config a node should run.
func (p *Pusher) Desired(id string) (api.NodeConfig, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.targets[id]
	return t.Config, ok
}

// Observed tells the pusher which revision a node reports running, so that
// it stops retrying a push the node no longer needs.
func (p *Pusher) Observed(id string, running api.Revision) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.targets[id]; ok && t.Config.Revision == running {
		p.delivered[id] = running
	}
}

func (p *Pusher) enqueueLocked(id string) {
	if p.queued[id] || p.closed {
		return
	}
	p.queued[id] = true
	p.queue = append(p.queue, id)
	p.cond.Signal()
}

func (p *Pusher) enqueueAfter(id string, d time.Duration) {
	time.AfterFunc(d, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.enqueueLocked(id)
	})
}

// next blocks until a node is queued or the pusher is closed.
func (p *Pusher) next() (string, Target, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.queue) == 0 && !p.closed {
			p.cond.Wait()
		}
		if p.closed {
			return "", Target{}, false
		}
		id := p.queue[0]
		p.queue = p.queue[1:]
		delete(p.queued, id)
		t, ok := p.targets[id]
		if !ok || p.delivered[id] == t.Config.Revision || t.Endpoint == "" {
			continue
		}
		return id, t, true
	}
}

// Run pushes until ctx ends.
func (p *Pusher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range p.workers {
		wg.Go(func() { p.work(ctx) })
	}
	<-ctx.Done()
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	wg.Wait()
}

func (p *Pusher) work(ctx context.Context) {
	for {
		id, t, ok := p.next()
		if !ok {
			return
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := p.client.PushConfig(pctx, t.Endpoint, t.Config)
		cancel()
		p.mu.Lock()
		if err == nil {
			if cur, ok := p.targets[id]; ok && cur.Config.Revision == t.Config.Revision {
				p.delivered[id] = t.Config.Revision
			}
			p.attempts[id] = 0
			p.mu.Unlock()
			continue
		}
		p.attempts[id]++
		n := p.attempts[id]
		p.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		d := p.delay(n)
		p.log.Warn("push failed; will retry", "node", id, "revision", t.Config.Revision, "attempt", n, "retry_in", d, "err", err)
		p.enqueueAfter(id, d)
	}
}

func (p *Pusher) delay(attempt int) time.Duration {
	d := p.backoff.Initial
	for i := 1; i < attempt && d < p.backoff.Max; i++ {
		d *= 2
	}
	return min(d, p.backoff.Max)
}
