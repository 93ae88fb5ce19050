package celerybridge

import (
	"log/slog"
	"time"
)

// config collects the Client options.
type config struct {
	logger       *slog.Logger
	backendURL   string
	routes       Routes
	defaultQueue string
	minBackoff   time.Duration
	maxBackoff   time.Duration
	replyExpiry  time.Duration
	pollInterval time.Duration
	resultTTL    time.Duration
	origin       string
	dialTimeout  time.Duration
	connName     string
	metrics      *Metrics
	background   bool
	declare      []string
	broadcast    string // the fanout exchange a Consumer takes broadcasts of
}

func defaultConfig() config {
	return config{
		logger:       slog.Default(),
		defaultQueue: DefaultQueue,
		minBackoff:   100 * time.Millisecond,
		maxBackoff:   5 * time.Second,
		replyExpiry:  30 * time.Minute,
		pollInterval: 200 * time.Millisecond,
		resultTTL:    time.Hour,
		origin:       anonNodeName(),
		dialTimeout:  10 * time.Second,
		connName:     "celerybridge",
	}
}

// Option configures a Client.
type Option func(*config)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithDeclared has a Consumer also declare queues (as Celery does:
// durable, no arguments) on each connection: for the queues its handler
// forwards to before any worker consumes them.
func WithDeclared(queues ...string) Option {
	return func(c *config) { c.declare = append(c.declare, queues...) }
}

// WithBroadcast has a Consumer take the broadcasts of a fanout exchange,
// such as Celery's remote control (celery.pidbox), on a queue of its own
// that the broker deletes once the consumer is gone, as a Celery worker
// takes them.
func WithBroadcast(exchange string) Option {
	return func(c *config) { c.broadcast = exchange }
}

// WithResultBackend sets the result backend URL, as CELERY_RESULT_BACKEND
// names it: "rpc://", "db+postgresql://USER:PASS@HOST:PORT/DB" or
// "redis://:PASS@HOST:PORT/DB" (rediss:// for TLS). Without it
// the Client only sends, and Wait/Lookup return ErrNoBackend.
func WithResultBackend(url string) Option { return func(c *config) { c.backendURL = url } }

// WithRoutes sets the task_routes table used when Send is given no queue.
func WithRoutes(r Routes) Option { return func(c *config) { c.routes = r } }

// WithDefaultQueue sets the queue for tasks no route matches (default "celery").
func WithDefaultQueue(q string) Option { return func(c *config) { c.defaultQueue = q } }

// WithReconnectBackoff sets the first and the longest wait between dial attempts.
func WithReconnectBackoff(min, max time.Duration) Option {
	return func(c *config) { c.minBackoff, c.maxBackoff = min, max }
}

// WithReplyQueueExpiry sets the x-expires of the rpc:// reply queue: how long
// the broker keeps it once this Client is gone (default 30 minutes).
func WithReplyQueueExpiry(d time.Duration) Option { return func(c *config) { c.replyExpiry = d } }

// WithPollInterval sets how often the db and redis backends re-read a task
// Wait is waiting for (default 200 ms; redis normally learns of the result
// sooner, by pub/sub).
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.pollInterval = d } }

// WithResultRetention sets how long rpc:// results are kept for Lookup after
// they reach a final state (default one hour).
func WithResultRetention(d time.Duration) Option { return func(c *config) { c.resultTTL = d } }

// WithConnectionName sets the connection_name RabbitMQ shows for the
// Client's connection (default "celerybridge").
func WithConnectionName(n string) Option { return func(c *config) { c.connName = n } }

// WithBackgroundConnect lets Dial return while the broker or a database or
// Redis result backend is unreachable and keep connecting in the
// background: Ready reports ErrDisconnected and Sends wait (within their
// context) until the first connection; ResultsReady reports the result
// backend, Lookup fails with ErrBackendUnavailable and waits wait until it
// opens. A refused broker login or vhost, or a malformed URL, still fails
// Dial at once.
func WithBackgroundConnect() Option { return func(c *config) { c.background = true } }

// WithOrigin sets the origin header (default "gen<pid>@<hostname>", as Celery).
func WithOrigin(o string) Option { return func(c *config) { c.origin = o } }

// sendConfig collects the SendOption values.
type sendConfig struct {
	taskID       string
	queue        string
	eta          time.Time
	expires      time.Time
	priority     uint8
	hardLimit    time.Duration
	softLimit    time.Duration
	parentID     string
	rootID       string
	ignoreResult bool
}

// SendOption configures one Send.
type SendOption func(*sendConfig)

// WithTaskID sets the task id (default a random UUID).
func WithTaskID(id string) SendOption { return func(s *sendConfig) { s.taskID = id } }

// WithQueue sends to queue, bypassing the routing table.
func WithQueue(q string) SendOption { return func(s *sendConfig) { s.queue = q } }

// WithCountdown delays execution by d from now.
func WithCountdown(d time.Duration) SendOption {
	return func(s *sendConfig) { s.eta = time.Now().Add(d) }
}

// WithETA sets the earliest execution time.
func WithETA(t time.Time) SendOption { return func(s *sendConfig) { s.eta = t } }

// WithExpires sets when the task expires; a worker revokes it if it is not
// started by then.
func WithExpires(t time.Time) SendOption { return func(s *sendConfig) { s.expires = t } }

// WithExpiresIn is WithExpires(time.Now().Add(d)).
func WithExpiresIn(d time.Duration) SendOption {
	return func(s *sendConfig) { s.expires = time.Now().Add(d) }
}

// WithPriority sets the AMQP message priority (0–255; Celery uses 0–9).
func WithPriority(p uint8) SendOption { return func(s *sendConfig) { s.priority = p } }

// WithTimeLimit sets the hard and soft time limits; zero leaves one unset.
func WithTimeLimit(hard, soft time.Duration) SendOption {
	return func(s *sendConfig) { s.hardLimit, s.softLimit = hard, soft }
}

// WithParent sets the parent and root task ids (empty root: the parent's id).
func WithParent(parentID, rootID string) SendOption {
	return func(s *sendConfig) { s.parentID, s.rootID = parentID, rootID }
}

// WithIgnoreResult asks the worker not to store the result.
func WithIgnoreResult() SendOption { return func(s *sendConfig) { s.ignoreResult = true } }
