package celerybridge_test

import (
	"context"
	"fmt"
	"time"

	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// Example dials the broker, sends a task to a Celery worker and waits for
// its result. It needs a broker and a worker serving "echo" on queue
// "celery" (see internal/testenv.StartCeleryWorker), so it has no Output.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := celerybridge.Dial(ctx, "amqp://guest:guest@127.0.0.1:5672/",
		celerybridge.WithResultBackend("rpc://"),
		celerybridge.WithRoutes(celerybridge.Routes{{Pattern: "workflow_manager.*", Queue: "file_processing"}}))
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	defer c.Close(context.Background())

	id, err := c.Send(ctx, "echo", []any{"hello"}, map[string]any{"n": 1}, celerybridge.WithExpiresIn(time.Minute))
	if err != nil {
		fmt.Println("send:", err)
		return
	}
	r, err := c.Wait(ctx, id)
	if err != nil {
		fmt.Println("task failed:", err)
		return
	}
	fmt.Println(r.State, string(r.Value))
}
