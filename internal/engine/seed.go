//go:build !hatchet_external

package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hatchet-dev/hatchet/pkg/config/database"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
	v1 "github.com/hatchet-dev/hatchet/pkg/repository"
)

// Hatchet's seed (hatchet-admin seed, and versions of this service before the
// fix for issue 15) creates this user, an owner of the default tenant, unless
// told otherwise. Both halves are in Hatchet's documentation.
const (
	publishedAdminEmail    = "admin@example.com"
	publishedAdminPassword = "Admin123!!"
)

// prepareTenant creates the default tenant when it is missing and returns its
// id. Unlike Hatchet's seed it creates no user, whatever ADMIN_EMAIL and
// ADMIN_PASSWORD say: the embedded engine has no dashboard, and its API token
// is the way in. A user left by an older version with Hatchet's published
// credentials is removed (see removePublishedAdmin).
func prepareTenant(ctx context.Context, cf *loader.ConfigLoader, log *slog.Logger) (string, error) {
	dl, err := cf.InitDataLayer()
	if err != nil {
		return "", fmt.Errorf("open hatchet data layer: %w", err)
	}
	defer dl.Disconnect() //nolint:errcheck // the layer's use ends here
	if err := ensureTenant(ctx, dl); err != nil {
		return "", err
	}
	if err := removePublishedAdmin(ctx, dl.Pool, log); err != nil {
		return "", err
	}
	return dl.Seed.DefaultTenantID, nil
}

// ensureTenant creates the default tenant, as Hatchet's seed does, unless a
// tenant with its slug exists (also when another process pointed at the same
// database created it a moment ago).
func ensureTenant(ctx context.Context, dl *database.Layer) error {
	s := dl.Seed
	exists, err := tenantExists(ctx, dl, s.DefaultTenantSlug)
	if err != nil || exists {
		return err
	}
	id, err := uuid.Parse(s.DefaultTenantID)
	if err != nil {
		return fmt.Errorf("default tenant id %q: %w", s.DefaultTenantID, err)
	}
	_, err = dl.V1.Tenant().CreateTenant(ctx, &v1.CreateTenantOpts{ID: &id, Name: s.DefaultTenantName, Slug: s.DefaultTenantSlug})
	if err != nil {
		if exists, _ := tenantExists(ctx, dl, s.DefaultTenantSlug); exists {
			return nil
		}
		return fmt.Errorf("create default tenant: %w", err)
	}
	return nil
}

func tenantExists(ctx context.Context, dl *database.Layer, slug string) (bool, error) {
	_, err := dl.V1.Tenant().GetTenantBySlug(ctx, slug)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	default:
		return false, fmt.Errorf("look up default tenant %q: %w", slug, err)
	}
}

// removePublishedAdmin deletes the user Hatchet's seed created with its
// published credentials, if its password is still the published one (an
// operator who changed it keeps the user). Its memberships, sessions and
// password go with it. The log says so only when a user was removed.
func removePublishedAdmin(ctx context.Context, db *pgxpool.Pool, log *slog.Logger) error {
	var id, hash string
	err := db.QueryRow(ctx, `SELECT u.id::text, p.hash FROM "User" u
		JOIN "UserPassword" p ON p."userId" = u.id WHERE u.email = $1`, publishedAdminEmail).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up %s: %w", publishedAdminEmail, err)
	}
	if published, _ := v1.VerifyPassword(hash, publishedAdminPassword); !published {
		return nil
	}
	tag, err := db.Exec(ctx, `DELETE FROM "User" WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("remove %s: %w", publishedAdminEmail, err)
	}
	if tag.RowsAffected() > 0 {
		log.Warn("embedded engine: removed the user an older version seeded with Hatchet's published password; the API token is the way in",
			"email", publishedAdminEmail, "user_id", id)
	}
	return nil
}
