//go:build !hatchet_external

package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/unstract/hatchet-worker/internal/pgdb"

	"github.com/hatchet-dev/hatchet/pkg/encryption"
	"github.com/hatchet-dev/hatchet/pkg/random"
)

// keys are the secrets an embedded engine needs to read its own data again.
type keys struct {
	MasterKeyset  string
	JWTPrivate    string
	JWTPublic     string
	CookieSecrets string
	Token         string
}

const keysSchema = `
CREATE SCHEMA IF NOT EXISTS hatchet_worker;
CREATE TABLE IF NOT EXISTS hatchet_worker.embedded_keys (
	id             int PRIMARY KEY CHECK (id = 1),
	master_keyset  text NOT NULL,
	jwt_private    text NOT NULL,
	jwt_public     text NOT NULL,
	cookie_secrets text NOT NULL,
	token          text NOT NULL DEFAULT '',
	created_at     timestamptz NOT NULL DEFAULT now()
)`

// loadOrCreateKeys returns the engine's keys stored in the database, creating
// them on first start. Concurrent first starts agree on one set.
func loadOrCreateKeys(ctx context.Context, conn *pgx.Conn) (keys, error) {
	if err := pgdb.CreateSchema(ctx, conn, keysSchema); err != nil {
		return keys{}, fmt.Errorf("create keys table: %w", err)
	}
	k, err := readKeys(ctx, conn)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return keys{}, err
	}
	fresh, err := generateKeys()
	if err != nil {
		return keys{}, err
	}
	_, err = conn.Exec(ctx, `INSERT INTO hatchet_worker.embedded_keys
		(id, master_keyset, jwt_private, jwt_public, cookie_secrets) VALUES (1, $1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING`,
		fresh.MasterKeyset, fresh.JWTPrivate, fresh.JWTPublic, fresh.CookieSecrets)
	if err != nil {
		return keys{}, fmt.Errorf("store keys: %w", err)
	}
	return readKeys(ctx, conn)
}

func readKeys(ctx context.Context, conn *pgx.Conn) (keys, error) {
	var k keys
	err := conn.QueryRow(ctx, `SELECT master_keyset, jwt_private, jwt_public, cookie_secrets, token
		FROM hatchet_worker.embedded_keys WHERE id = 1`).
		Scan(&k.MasterKeyset, &k.JWTPrivate, &k.JWTPublic, &k.CookieSecrets, &k.Token)
	if err != nil {
		return keys{}, fmt.Errorf("read keys: %w", err)
	}
	return k, nil
}

func storeToken(ctx context.Context, conn *pgx.Conn, token string) error {
	if _, err := conn.Exec(ctx, `UPDATE hatchet_worker.embedded_keys SET token = $1 WHERE id = 1`, token); err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	return nil
}

func generateKeys() (keys, error) {
	master, private, public, _, err := encryption.GenerateLocalKeys()
	if err != nil {
		return keys{}, fmt.Errorf("generate keys: %w", err)
	}
	hashKey, err := random.Generate(16)
	if err != nil {
		return keys{}, fmt.Errorf("generate cookie key: %w", err)
	}
	blockKey, err := random.Generate(16)
	if err != nil {
		return keys{}, fmt.Errorf("generate cookie key: %w", err)
	}
	return keys{
		MasterKeyset:  string(master),
		JWTPrivate:    string(private),
		JWTPublic:     string(public),
		CookieSecrets: hashKey + " " + blockKey,
	}, nil
}
