package celerybridge_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// Raw baseline shape: the ceiling the bridge is measured against is
// amqp091-go publishing pipelined, confirmed, mandatory, persistent messages
// on rawChannels channels of one connection with up to rawWindow unconfirmed
// messages each. The bridge gets the same number of messages in flight.
const (
	rawChannels  = 4
	rawWindow    = 32
	benchSenders = rawChannels * rawWindow
)

// BenchmarkPublishConfirmed measures the bridge's confirmed Send from
// benchSenders goroutines to a queue nobody consumes.
func BenchmarkPublishConfirmed(b *testing.B) {
	p := newPublishBench(b)
	b.ResetTimer()
	d := p.bridge(b, b.N)
	b.ReportMetric(float64(b.N)/d.Seconds(), "msg/s")
}

// BenchmarkPublishRaw is the ceiling beside BenchmarkPublishConfirmed: the
// bridge's own message, published by amqp091-go directly.
func BenchmarkPublishRaw(b *testing.B) {
	p := newPublishBench(b)
	b.ResetTimer()
	d := p.raw(b, b.N)
	b.ReportMetric(float64(b.N)/d.Seconds(), "msg/s")
}

// BenchmarkPublishRatio publishes b.N messages through the bridge and b.N
// raw, alternating in chunks so both see the same machine, and reports both
// rates and bridge/raw. Each chunk starts on an empty queue (the broker
// enqueues more slowly into a longer one), and the two take turns going
// first.
func BenchmarkPublishRatio(b *testing.B) {
	p := newPublishBench(b)
	const chunk = 2000
	var bridge, raw time.Duration
	b.ResetTimer()
	for i, left := 0, b.N; left > 0; i, left = i+1, left-chunk {
		n := min(left, chunk)
		turns := []func(){func() { raw += p.raw(b, n) }, func() { bridge += p.bridge(b, n) }}
		if i%2 == 1 {
			turns[0], turns[1] = turns[1], turns[0]
		}
		for _, turn := range turns {
			turn()
			b.StopTimer()
			p.purge(b)
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N)/bridge.Seconds(), "bridge-msg/s")
	b.ReportMetric(float64(b.N)/raw.Seconds(), "raw-msg/s")
	b.ReportMetric(raw.Seconds()/bridge.Seconds(), "bridge/raw")
}

// publishBench holds a bridge Client, a raw connection and the queue both
// publish to.
type publishBench struct {
	client *celerybridge.Client
	conn   *amqp.Connection
	queue  string
	msg    amqp.Publishing // the bridge's own message, captured from the queue
}

func newPublishBench(b *testing.B) *publishBench {
	b.Helper()
	url := testenv.AMQPURL(b)
	p := &publishBench{queue: fmt.Sprintf("cb-bench-publish-%s-%d", runID, time.Now().UnixNano())}
	var err error
	if p.conn, err = amqp.Dial(url); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.conn.Close() })
	ch, err := p.conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	defer ch.Close()
	if _, err := ch.QueueDeclare(p.queue, true, false, false, false, nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.deleteQueue)
	if p.client, err = celerybridge.Dial(context.Background(), url); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.client.Close(context.Background()) })
	p.msg = p.capture(b, ch)
	return p
}

// capture sends one task through the bridge and reads it back as a Publishing.
func (p *publishBench) capture(b *testing.B, ch *amqp.Channel) amqp.Publishing {
	b.Helper()
	p.send(b)
	d, ok, err := ch.Get(p.queue, true)
	if err != nil || !ok {
		b.Fatalf("read back the bridge's message: ok=%v err=%v", ok, err)
	}
	return amqp.Publishing{Headers: d.Headers, ContentType: d.ContentType, ContentEncoding: d.ContentEncoding,
		DeliveryMode: d.DeliveryMode, Priority: d.Priority, CorrelationId: d.CorrelationId, ReplyTo: d.ReplyTo, Body: d.Body}
}

func (p *publishBench) send(b *testing.B) {
	if _, err := p.client.Send(context.Background(), "echo", []any{"x"}, nil, celerybridge.WithQueue(p.queue)); err != nil {
		b.Error(err)
	}
}

// bridge sends n tasks from benchSenders goroutines and returns the time taken.
func (p *publishBench) bridge(b *testing.B, n int) time.Duration {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	began := time.Now()
	for range min(n, benchSenders) {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				p.send(b)
			}
		})
	}
	wg.Wait()
	return time.Since(began)
}

// raw publishes n copies of the bridge's message on rawChannels confirming
// channels, each keeping up to rawWindow unconfirmed, and returns the time
// taken once every one is confirmed.
func (p *publishBench) raw(b *testing.B, n int) time.Duration {
	chans := make([]*amqp.Channel, rawChannels)
	for i := range chans {
		ch, err := p.conn.Channel()
		if err != nil {
			b.Fatal(err)
		}
		if err := ch.Confirm(false); err != nil {
			b.Fatal(err)
		}
		chans[i] = ch
	}
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	began := time.Now()
	for _, ch := range chans {
		wg.Go(func() { p.pipeline(b, ch, &left) })
	}
	wg.Wait()
	elapsed := time.Since(began)
	for _, ch := range chans {
		_ = ch.Close()
	}
	return elapsed
}

// pipeline publishes on ch while left stays positive, waiting for the oldest
// confirm whenever rawWindow are outstanding.
func (p *publishBench) pipeline(b *testing.B, ch *amqp.Channel, left *atomic.Int64) {
	window := make([]*amqp.DeferredConfirmation, 0, rawWindow)
	await := func(dc *amqp.DeferredConfirmation) {
		if ok, err := dc.WaitContext(context.Background()); err != nil || !ok {
			b.Errorf("raw publish not confirmed: ok=%v err=%v", ok, err)
		}
	}
	for left.Add(-1) >= 0 {
		if len(window) == rawWindow {
			await(window[0])
			window = window[1:]
		}
		dc, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), "", p.queue, true, false, p.msg)
		if err != nil {
			b.Error(err)
			return
		}
		window = append(window, dc)
	}
	for _, dc := range window {
		await(dc)
	}
}

func (p *publishBench) purge(b *testing.B) {
	ch, err := p.conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	defer ch.Close()
	if _, err := ch.QueuePurge(p.queue, false); err != nil {
		b.Fatal(err)
	}
}

func (p *publishBench) deleteQueue() {
	ch, err := p.conn.Channel()
	if err != nil {
		return
	}
	defer ch.Close()
	_, _ = ch.QueueDelete(p.queue, false, false, false)
}

// BenchmarkRoundTrip measures Send+Wait latency of one task at a time
// against the fixture worker with the rpc:// backend.
func BenchmarkRoundTrip(b *testing.B) {
	w := testenv.StartCeleryWorker(b, testenv.WithCeleryQueues("cb-bench-rt-"+runID))
	c := dialRoundTrip(b, w)
	b.ResetTimer()
	b.ReportMetric(roundTrips(b, c, w.Queues[0], b.N).Seconds()*1e3/float64(b.N), "ms/call")
}

// BenchmarkRoundTripVsPython alternates chunks of Go Calls and Python
// send_task(...).get() round trips through the same worker and queue, and
// reports both latencies and go/python.
func BenchmarkRoundTripVsPython(b *testing.B) {
	w := testenv.StartCeleryWorker(b, testenv.WithCeleryQueues("cb-bench-rtpy-"+runID))
	c := dialRoundTrip(b, w)
	py := startPythonRoundTripsOn(b, w.BrokerURL, w.Queues[0])
	const chunk = 100
	var goTime, pyTime time.Duration
	b.ResetTimer()
	for left := b.N; left > 0; left -= chunk {
		n := min(left, chunk)
		goTime += roundTrips(b, c, w.Queues[0], n)
		pyTime += py.run(b, n)
	}
	b.ReportMetric(goTime.Seconds()*1e3/float64(b.N), "go-ms/call")
	b.ReportMetric(pyTime.Seconds()*1e3/float64(b.N), "py-ms/call")
	b.ReportMetric(goTime.Seconds()/pyTime.Seconds(), "go/py")
}

func dialRoundTrip(b *testing.B, w *testenv.CeleryWorker) *celerybridge.Client {
	b.Helper()
	c, err := celerybridge.Dial(context.Background(), w.BrokerURL, celerybridge.WithResultBackend("rpc://"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	if _, err := c.Call(context.Background(), "echo", []any{"warm"}, nil, celerybridge.WithQueue(w.Queues[0])); err != nil {
		b.Fatal(err)
	}
	return c
}

// roundTrips makes n Calls one after another and returns the time taken.
func roundTrips(b *testing.B, c *celerybridge.Client, queue string, n int) time.Duration {
	began := time.Now()
	for range n {
		if _, err := c.Call(context.Background(), "echo", []any{"x"}, nil, celerybridge.WithQueue(queue)); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(began)
}

// pythonRoundTrips is a running testdata/roundtrip.py.
type pythonRoundTrips struct {
	in  io.Writer
	out *bufio.Scanner
}

func startPythonRoundTripsOn(b testing.TB, brokerURL, queue string) *pythonRoundTrips {
	b.Helper()
	dir, err := testenv.CeleryAppDir()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(testenv.CeleryPython, filepath.Join(dir, "roundtrip.py"), brokerURL, queue)
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = in.Close(); _ = cmd.Wait() })
	p := &pythonRoundTrips{in: in, out: bufio.NewScanner(out)}
	if !p.out.Scan() || p.out.Text() != "ready" {
		b.Fatalf("roundtrip.py did not start: %q %v", p.out.Text(), p.out.Err())
	}
	return p
}

// run asks for n round trips and returns the time Python measured.
func (p *pythonRoundTrips) run(b testing.TB, n int) time.Duration {
	if _, err := fmt.Fprintln(p.in, n); err != nil {
		b.Fatal(err)
	}
	if !p.out.Scan() {
		b.Fatalf("roundtrip.py: %v", p.out.Err())
	}
	secs, err := strconv.ParseFloat(p.out.Text(), 64)
	if err != nil {
		b.Fatalf("roundtrip.py answered %q", p.out.Text())
	}
	return time.Duration(secs * float64(time.Second))
}
