package celerybridge

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"
)

// rpcBackend receives results on a reply queue owned by the Client.
//
// Celery's worker publishes results to reply_to without declaring it and
// drops them if the queue is missing, so the queue must outlive reconnects:
// it is declared durable, non-exclusive and not auto-delete, with x-expires
// so the broker removes it once the Client has been gone that long. It is
// re-declared (same arguments) on every connection and deleted by Close.
type rpcBackend struct {
	queue  string
	expiry time.Duration
	ttl    time.Duration
	log    *slog.Logger
	// onFinal, when set, is called with each final result before its
	// reply is acknowledged (Client.OnResult).
	onFinal atomic.Pointer[func(Result)]

	mu        sync.Mutex // guards results, waiters and lastPrune
	results   map[string]rpcEntry
	waiters   map[string][]chan Result
	lastPrune time.Time
}

// rpcEntry is a stored result with the time it arrived.
type rpcEntry struct {
	result Result
	at     time.Time
}

func newRPCBackend(cfg *config) *rpcBackend {
	return &rpcBackend{
		queue: "celerybridge.reply." + uuid.NewString(), expiry: cfg.replyExpiry, ttl: cfg.resultTTL,
		log: cfg.logger, results: map[string]rpcEntry{}, waiters: map[string][]chan Result{}, lastPrune: time.Now(),
	}
}

func (b *rpcBackend) replyTo() string { return b.queue }

func (b *rpcBackend) attach(conn *amqp.Connection) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open reply channel: %w", err)
	}
	args := amqp.Table{"x-expires": int32(b.expiry / time.Millisecond)}
	if _, err := ch.QueueDeclare(b.queue, true, false, false, false, args); err != nil {
		return fmt.Errorf("declare reply queue %s: %w", b.queue, err)
	}
	if err := ch.Qos(256, 0, false); err != nil {
		return fmt.Errorf("set reply prefetch: %w", err)
	}
	deliveries, err := ch.Consume(b.queue, "", false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume reply queue %s: %w", b.queue, err)
	}
	go b.consume(deliveries)
	return nil
}

// consume stores each reply, then acks it, so a reply is never lost to a
// dropped connection (a redelivered duplicate is harmless).
func (b *rpcBackend) consume(deliveries <-chan amqp.Delivery) {
	for d := range deliveries {
		r, err := parseReply(d.Body)
		if err != nil {
			b.log.Warn("celerybridge: dropping unreadable reply", "correlation_id", d.CorrelationId, "err", err)
		} else {
			b.store(r)
			b.notify(r)
		}
		_ = d.Ack(false)
	}
}

// notify hands a final result to the OnResult function, if any.
func (b *rpcBackend) notify(r Result) {
	if f := b.onFinal.Load(); f != nil && r.State.Final() {
		(*f)(r)
	}
}

func (b *rpcBackend) store(r Result) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.results[r.TaskID]; ok && old.result.State.Final() && !r.State.Final() {
		return // a late STARTED/RETRY never hides the outcome
	}
	now := time.Now()
	b.results[r.TaskID] = rpcEntry{result: r, at: now}
	if !r.State.Final() {
		return
	}
	for _, w := range b.waiters[r.TaskID] {
		w <- r
	}
	delete(b.waiters, r.TaskID)
	b.prune(now)
}

// prune forgets final results older than the retention period.
func (b *rpcBackend) prune(now time.Time) {
	if now.Sub(b.lastPrune) < b.ttl/10 {
		return
	}
	b.lastPrune = now
	for id, e := range b.results {
		if e.result.State.Final() && now.Sub(e.at) > b.ttl {
			delete(b.results, id)
		}
	}
}

func (b *rpcBackend) lookup(_ context.Context, id string) (Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.results[id]; ok {
		return e.result, nil
	}
	return pendingResult(id), nil
}

func (b *rpcBackend) lookupMany(_ context.Context, ids []string) ([]Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Result, len(ids))
	for i, id := range ids {
		out[i] = pendingResult(id)
		if e, ok := b.results[id]; ok {
			out[i] = e.result
		}
	}
	return out, nil
}

func (b *rpcBackend) wait(ctx context.Context, id string) (Result, error) {
	b.mu.Lock()
	if e, ok := b.results[id]; ok && e.result.State.Final() {
		b.mu.Unlock()
		return e.result, nil
	}
	w := make(chan Result, 1)
	b.waiters[id] = append(b.waiters[id], w)
	b.mu.Unlock()
	select {
	case r := <-w:
		return r, nil
	case <-ctx.Done():
		b.dropWaiter(id, w)
		return Result{}, fmt.Errorf("wait for task %s: %w", id, ctx.Err())
	}
}

func (b *rpcBackend) dropWaiter(id string, w chan Result) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ws := b.waiters[id]
	for i, x := range ws {
		if x == w {
			b.waiters[id] = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(b.waiters[id]) == 0 {
		delete(b.waiters, id)
	}
}

// close deletes the reply queue; results still on their way are dropped.
func (b *rpcBackend) close(_ context.Context, conn *amqp.Connection) error {
	if conn == nil || conn.IsClosed() {
		return nil
	}
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel to delete reply queue: %w", err)
	}
	defer ch.Close()
	if _, err := ch.QueueDelete(b.queue, false, false, false); err != nil {
		return fmt.Errorf("delete reply queue %s: %w", b.queue, err)
	}
	return nil
}
