//go:build integration && !hatchet_external

package engine

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

// TestTakeDatabase requeues at start what a stopped engine left ASSIGNED,
// and only while no other engine holds the database.
func TestTakeDatabase(t *testing.T) {
	url := testenv.TestDatabase(t, "hw_test_take_database")
	// The part of Hatchet's schema the message queue's items live in.
	testenv.ExecSQL(t, url, `CREATE TYPE "MessageQueueItemStatus" AS ENUM ('PENDING', 'ASSIGNED');
		CREATE TABLE "MessageQueueItem" ("id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "payload" JSONB NOT NULL,
			"readAfter" TIMESTAMP(3), "expiresAt" TIMESTAMP(3), "queueId" TEXT,
			"status" "MessageQueueItemStatus" NOT NULL DEFAULT 'PENDING');
		INSERT INTO "MessageQueueItem" (payload, "expiresAt", status) VALUES ('{}', now() + interval '1 minute', 'ASSIGNED'),
			('{}', now() + interval '1 minute', 'PENDING')`)
	assigned := func() int {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM "MessageQueueItem" WHERE status = 'ASSIGNED'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	owner, err := takeDatabase(t.Context(), url, true, slog.Default())
	if err != nil || owner == nil {
		t.Fatalf("first engine: owner %v, err %v; want the lock", owner, err)
	}
	if n := assigned(); n != 0 {
		t.Errorf("%d messages still ASSIGNED after the first engine took the database, want 0", n)
	}

	testenv.ExecSQL(t, url, `UPDATE "MessageQueueItem" SET status = 'ASSIGNED'`) // the running engine's reads
	second, err := takeDatabase(t.Context(), url, true, slog.Default())
	if err != nil || second != nil {
		t.Fatalf("second engine: owner %v, err %v; want no lock and no error", second, err)
	}
	if n := assigned(); n != 2 {
		t.Errorf("%d messages ASSIGNED after a second engine started beside the first, want its 2 left alone", n)
	}

	if err := closeOwner(t.Context(), owner); err != nil {
		t.Fatal(err)
	}
	third, err := takeDatabase(t.Context(), url, false, slog.Default())
	if err != nil || third == nil {
		t.Fatalf("engine after the first stopped: owner %v, err %v; want the lock", third, err)
	}
	defer closeOwner(context.Background(), third)
	if n := assigned(); n != 2 {
		t.Errorf("%d messages ASSIGNED after an engine without the Postgres queue took the database, want 2", n)
	}
	// The reclaimer's sweep requeues only the ids it names.
	if n, err := requeue(t.Context(), third, []int64{1}); err != nil || n != 1 || assigned() != 1 {
		t.Errorf("requeue of message 1: %d rows, %v; %d still ASSIGNED, want 1 row and 1 left", n, err, assigned())
	}
}

// TestKeepOwner holds the lock across a database restart, and takes it
// when the engine that held it at start stops.
func TestKeepOwner(t *testing.T) {
	c := testenv.StartPGCluster(t)
	if err := c.Exec(t.Context(), "postgres", "CREATE DATABASE hatchet"); err != nil {
		t.Fatal(err)
	}
	url := c.URL("hatchet")
	held := func() bool {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			return false
		}
		defer conn.Close(context.Background())
		var n int
		err = conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted`).Scan(&n)
		return err == nil && n == 1
	}
	within := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(3 * ownerCheck); !ok(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, 3*ownerCheck)
			}
		}
	}

	first, err := tryLock(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	a := keepOwner(url, first, slog.Default())
	if _, err := tryLock(t.Context(), url); !errors.Is(err, errLockHeld) {
		t.Fatalf("lock beside a running engine: %v, want errLockHeld", err)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	within("lock held again after the restart", held)

	b := keepOwner(url, nil, slog.Default()) // started while a held the lock
	a.release()
	within("lock taken by the engine that started without it", held)
	if _, err := tryLock(t.Context(), url); !errors.Is(err, errLockHeld) {
		t.Fatalf("lock after the first engine stopped: %v, want held by the second", err)
	}
	b.release()
	within("lock released", func() bool { return !held() })
}
