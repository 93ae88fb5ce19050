package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/google/uuid"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
	"github.com/unstract/hatchet-worker/shim/frontdoor"
	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// startFrontDoor takes the queues FRONT_DOOR names, when it names any: a
// consumer per queue hands each message to the front door, which runs it
// on Hatchet through d or passes it on to the queue's legacy twin. The
// settings file is watched, and the results of tasks run on Hatchet are
// stored for their Celery callers, on bgCtx.
func (s *service) startFrontDoor(ctx, bgCtx context.Context, d *shim.Dispatcher, routes []route.Route) error {
	fd := s.cfg.FrontDoor
	if !fd.Enabled() {
		return nil
	}
	if s.deps.Celery == nil {
		return errors.New("front door: the broker is off (CELERY_ENABLED=false)")
	}
	llm := s.deps.Workflows.LLM
	settings, err := frontdoor.OpenSettings(fd.SettingsFile, func(ds workflows.DocumentSettings) error { return ds.Check(llm) }, s.log)
	if err != nil {
		return fmt.Errorf("front door: %w", err)
	}
	s.bg.Go(func() error { return settings.Watch(bgCtx) })
	twin := func(queue string) string { return queue + fd.TwinSuffix }
	door := frontdoor.New(routes, settings, d, s.deps.Celery, twin, s.log, frontdoor.WithMetrics(s.ops.Registry),
		frontdoor.WithResults(s.store, s.deps.Celery))
	s.bg.Go(func() error { return door.WriteResults(bgCtx, s.cfg.Shim.TrackInterval) })
	_, queues, _ := fd.Queues() // checked by config
	for _, queue := range queues {
		c, err := celerybridge.NewConsumer(ctx, s.cfg.Celery.BrokerURL, queue, fd.Prefetch,
			func(ctx context.Context, m amqp.Delivery) error { return door.Handle(ctx, queue, m) },
			celerybridge.WithDeclared(twin(queue)), celerybridge.WithLogger(s.log), celerybridge.WithBackgroundConnect())
		if err != nil {
			return fmt.Errorf("front door: %w", err)
		}
		s.frontDoor = append(s.frontDoor, c)
		s.ops.AddCheck("front_door:"+queue, c.Ready)
		s.log.Info("front door taking a queue", "queue", queue, "twin", twin(queue), "prefetch", fd.Prefetch)
	}
	return s.takeRevokes(ctx, door)
}

// takeRevokes has the front door take Celery's remote-control broadcasts,
// on a queue of this process's own, so a revoke cancels a Hatchet run.
func (s *service) takeRevokes(ctx context.Context, door *frontdoor.Door) error {
	host, _ := os.Hostname()
	queue := fmt.Sprintf("hatchet-worker@%s.%s.celery.pidbox", host, uuid.NewString()[:8])
	c, err := celerybridge.NewConsumer(ctx, s.cfg.Celery.BrokerURL, queue, revokePrefetch, door.HandleControl,
		celerybridge.WithBroadcast(celerybridge.PidboxExchange), celerybridge.WithLogger(s.log), celerybridge.WithBackgroundConnect())
	if err != nil {
		return fmt.Errorf("front door: %w", err)
	}
	s.frontDoor = append(s.frontDoor, c)
	s.ops.AddCheck("front_door:revokes", c.Ready)
	return nil
}

// revokePrefetch bounds the revoke broadcasts handled at once.
const revokePrefetch = 16

// closeFrontDoor stops taking messages and waits for those taken.
func (s *service) closeFrontDoor(ctx context.Context) error {
	var errs []error
	for _, c := range s.frontDoor {
		errs = append(errs, c.Close(ctx))
	}
	return errors.Join(errs...)
}
