package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// sessionsSchema keeps the console's sessions, by the SHA-256 of their id
// (a read of the table yields no cookie), and its refused logins, so every
// replica sharing the store honours them.
const sessionsSchema = `;
CREATE TABLE IF NOT EXISTS hatchet_worker.console_sessions (
	id_hash    bytea PRIMARY KEY,
	csrf       text NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS hatchet_worker.console_refused_logins (
	addr text NOT NULL,
	at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS console_refused_logins_addr ON hatchet_worker.console_refused_logins (addr, at)`

// CreateSession stores a console session; expired ones are deleted.
func (s *Postgres) CreateSession(ctx context.Context, idHash []byte, csrf string, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `WITH gone AS (DELETE FROM hatchet_worker.console_sessions WHERE expires_at < now())
		INSERT INTO hatchet_worker.console_sessions (id_hash, csrf, expires_at) VALUES ($1, $2, $3)`, idHash, csrf, expires)
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// Session returns the CSRF token and expiry of the session whose id hashes
// to idHash, false when there is none live at now.
func (s *Postgres) Session(ctx context.Context, idHash []byte, now time.Time) (string, time.Time, bool, error) {
	var csrf string
	var expires time.Time
	err := s.pool.QueryRow(ctx, `SELECT csrf, expires_at FROM hatchet_worker.console_sessions WHERE id_hash = $1 AND expires_at > $2`,
		idHash, now).Scan(&csrf, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("read console session: %w", err)
	}
	return csrf, expires, true, nil
}

// EndSession deletes the session whose id hashes to idHash.
func (s *Postgres) EndSession(ctx context.Context, idHash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM hatchet_worker.console_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("end console session: %w", err)
	}
	return nil
}

// RefuseLogin records a login from addr refused at; refusals older than
// keep are deleted.
func (s *Postgres) RefuseLogin(ctx context.Context, addr string, at time.Time, keep time.Duration) error {
	_, err := s.pool.Exec(ctx, `WITH gone AS (DELETE FROM hatchet_worker.console_refused_logins WHERE at < $3)
		INSERT INTO hatchet_worker.console_refused_logins (addr, at) VALUES ($1, $2)`, addr, at, at.Add(-keep))
	if err != nil {
		return fmt.Errorf("record refused login: %w", err)
	}
	return nil
}

// LoginsRefused returns how many logins from addr were refused since, and
// when the oldest of them was.
func (s *Postgres) LoginsRefused(ctx context.Context, addr string, since time.Time) (int, time.Time, error) {
	var n int
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(at) FROM hatchet_worker.console_refused_logins WHERE addr = $1 AND at >= $2`,
		addr, since).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count refused logins: %w", err)
	}
	if oldest == nil {
		return 0, time.Time{}, nil
	}
	return n, *oldest, nil
}
