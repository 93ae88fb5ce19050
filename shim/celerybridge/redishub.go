package celerybridge

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// redisHub shares one pub/sub connection among every Wait of a Client, as
// Celery's own ResultConsumer does: it subscribes to a task's result channel
// while someone waits for that task and unsubscribes when the last one
// leaves. go-redis re-dials the connection and re-subscribes on its own;
// what is published meanwhile is lost, which the waiters' polling covers.
type redisHub struct {
	sub  *redis.PubSub
	done chan struct{} // closed when the reader has stopped

	mu       sync.Mutex // guards channels; held while (un)subscribing so commands follow it in order
	channels map[string]*hubChannel
}

// hubChannel is one subscribed result channel and the waiters on it.
type hubChannel struct {
	confirmed chan struct{} // closed once Redis confirms the subscription
	once      sync.Once
	waiters   map[*hubWaiter]struct{}
}

// hubWaiter receives the final results published for one task.
type hubWaiter struct {
	channel string
	results chan Result
}

// newRedisHub opens the shared subscription (connecting on first use) and
// starts its reader.
func newRedisHub(client *redis.Client) *redisHub {
	h := &redisHub{sub: client.Subscribe(context.Background()), done: make(chan struct{}),
		channels: map[string]*hubChannel{}}
	go h.read(h.sub.ChannelWithSubscriptions(redis.WithChannelSize(1024)))
	return h
}

// join subscribes to channel (unless another waiter already has) and
// returns once Redis has confirmed the subscription, so a result published
// from then on reaches the waiter.
func (h *redisHub) join(ctx context.Context, channel string) (*hubWaiter, error) {
	w := &hubWaiter{channel: channel, results: make(chan Result, 1)}
	c, err := h.add(ctx, w)
	if err != nil {
		return nil, err
	}
	select {
	case <-c.confirmed:
		return w, nil
	case <-ctx.Done():
		h.leave(w)
		return nil, fmt.Errorf("subscribe to %s: %w", channel, ctx.Err())
	}
}

// add registers w, subscribing to its channel if it is the first waiter.
func (h *redisHub) add(ctx context.Context, w *hubWaiter) (*hubChannel, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.channels[w.channel]; ok {
		c.waiters[w] = struct{}{}
		return c, nil
	}
	if err := h.sub.Subscribe(ctx, w.channel); err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", w.channel, err)
	}
	c := &hubChannel{confirmed: make(chan struct{}), waiters: map[*hubWaiter]struct{}{w: {}}}
	h.channels[w.channel] = c
	return c, nil
}

// leave drops w and unsubscribes from its channel once nobody waits on it.
func (h *redisHub) leave(w *hubWaiter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.channels[w.channel]
	if !ok {
		return
	}
	delete(c.waiters, w)
	if len(c.waiters) > 0 {
		return
	}
	delete(h.channels, w.channel)
	// A failed unsubscribe only leaves an idle subscription behind; the
	// next reconnect drops it (go-redis re-subscribes to tracked channels only).
	_ = h.sub.Unsubscribe(context.Background(), w.channel)
}

// read hands subscription confirmations and final results to the waiters
// until the subscription closes.
func (h *redisHub) read(messages <-chan any) {
	defer close(h.done)
	for m := range messages {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				h.confirm(m.Channel)
			}
		case *redis.Message:
			if r, err := parseReply([]byte(m.Payload)); err == nil && r.State.Final() {
				h.deliver(m.Channel, r)
			}
		}
	}
}

// confirm marks channel subscribed. After an unsubscribe and a quick
// re-subscribe the first confirmation may be the stale one; the waiter then
// reads the key a moment early, and its polling covers that window.
func (h *redisHub) confirm(channel string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.channels[channel]; ok {
		c.once.Do(func() { close(c.confirmed) })
	}
}

// deliver gives r to every waiter on channel that has not had one yet.
func (h *redisHub) deliver(channel string, r Result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.channels[channel]
	if !ok {
		return
	}
	for w := range c.waiters {
		select {
		case w.results <- r:
		default:
		}
	}
}

// close ends the shared subscription and waits for the reader.
func (h *redisHub) close() error {
	err := h.sub.Close()
	<-h.done
	if err != nil {
		return fmt.Errorf("close result subscription: %w", err)
	}
	return nil
}
