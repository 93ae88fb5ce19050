package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unstract/hatchet-worker/internal/pgdb"
	"github.com/unstract/hatchet-worker/shim/route"
)

// UserOnboardingName is the Hatchet name of the onboarding workflow.
const UserOnboardingName = "user-onboarding"

// OnboardingInput asks to put a user into an organisation.
type OnboardingInput struct {
	OrganizationID   string `json:"organization_id"`
	OrganizationName string `json:"organization_name"`
	UserEmail        string `json:"user_email"`
	UserName         string `json:"user_name"`
	Role             string `json:"role"`
	// WebhookURL receives the legacy "user onboarded" notification; empty
	// skips it.
	WebhookURL string `json:"webhook_url,omitempty"`
}

// OrgOutput is provision-organization's output.
type OrgOutput struct {
	OrganizationID string `json:"organization_id"`
	Created        bool   `json:"created"`
}

// UserOutput is create-user's output.
type UserOutput struct {
	UserID     int64 `json:"user_id"`
	NewMember  bool  `json:"new_member"`
	NewAccount bool  `json:"new_account"`
}

// NotifyOutput is notify's output, the workflow's result.
type NotifyOutput struct {
	Notified     bool   `json:"notified"`
	CeleryTaskID string `json:"celery_task_id,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// TaskSendWebhook is the legacy Celery task that sends notifications.
const TaskSendWebhook = "send_webhook_notification"

// Roles a membership may have.
var roles = map[string]bool{"admin": true, "user": true}

var orgID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,62}$`)

// UserOnboarding validates the request, provisions the organisation, creates
// the user and membership (each idempotent, in the platform database), then
// notifies through the legacy Celery task send_webhook_notification — once
// per new membership, so re-running with the same input changes nothing.
func UserOnboarding(deps Deps) Definition {
	o := &onboarding{deps: deps}
	return Definition{
		Name:        UserOnboardingName,
		Description: "Provision an organisation and its user in the platform database, then notify through the legacy Celery webhook task.",
		Timeout:     10 * time.Minute,
		// One onboarding per organisation at a time keeps provisioning simple.
		Options: []hatchet.WorkflowOption{perOrganization(1)},
		// The platform onboards users inline in Django: no Celery task.
		Route: &route.Route{},
		Tasks: []Task{
			{Name: "validate-request", Timeout: 30 * time.Second, Fn: o.validate},
			{Name: "provision-organization", Parents: []string{"validate-request"}, Timeout: time.Minute, Retries: 3, Fn: o.provision},
			{Name: "create-user", Parents: []string{"provision-organization"}, Timeout: time.Minute, Retries: 3, Fn: o.createUser},
			{Name: "notify", Parents: []string{"create-user"}, Timeout: 6 * time.Minute, Retries: 2, Fn: o.notify},
		},
	}
}

// onboarding holds the workflow's task functions.
type onboarding struct {
	deps Deps
}

func (o *onboarding) validate(ctx hatchet.Context, in OnboardingInput) (OnboardingInput, error) {
	in.UserEmail = strings.ToLower(strings.TrimSpace(in.UserEmail))
	if in.Role == "" {
		in.Role = "user"
	}
	var problems []string
	if !orgID.MatchString(in.OrganizationID) {
		problems = append(problems, "organization_id must be 2-63 lowercase letters, digits, '-' or '_'")
	}
	if strings.TrimSpace(in.OrganizationName) == "" {
		problems = append(problems, "organization_name is required")
	}
	if a, err := mail.ParseAddress(in.UserEmail); err != nil || a.Address != in.UserEmail {
		problems = append(problems, "user_email is not an email address")
	}
	if !roles[in.Role] {
		problems = append(problems, "role must be admin or user")
	}
	if in.WebhookURL != "" {
		if u, err := url.Parse(in.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, "webhook_url must be an http(s) URL")
		}
	}
	if o.deps.Platform == nil {
		return in, badInput("no platform database is configured (PLATFORM_DATABASE_URL)")
	}
	if len(problems) > 0 {
		return in, badInput("invalid onboarding request: %s", strings.Join(problems, "; "))
	}
	progress(ctx, o.deps.Log, "request valid", "organization_id", in.OrganizationID, "role", in.Role)
	return in, nil
}

func (o *onboarding) provision(ctx hatchet.Context, in OnboardingInput) (OrgOutput, error) {
	tag, err := o.deps.Platform.Exec(ctx, `INSERT INTO platform.organizations (id, name) VALUES ($1, $2)
		ON CONFLICT (id) DO NOTHING`, in.OrganizationID, in.OrganizationName)
	if err != nil {
		return OrgOutput{}, fmt.Errorf("provision organization %s: %w", in.OrganizationID, err)
	}
	out := OrgOutput{OrganizationID: in.OrganizationID, Created: tag.RowsAffected() == 1}
	progress(ctx, o.deps.Log, "organization provisioned", "organization_id", in.OrganizationID, "created", out.Created)
	return out, nil
}

func (o *onboarding) createUser(ctx hatchet.Context, in OnboardingInput) (UserOutput, error) {
	var v OnboardingInput
	if err := ctx.StepOutput("validate-request", &v); err != nil {
		return UserOutput{}, fmt.Errorf("read validated request: %w", err)
	}
	var out UserOutput
	err := o.deps.Platform.QueryRow(ctx, `WITH ins AS (
			INSERT INTO platform.users (email, name) VALUES ($1, $2)
			ON CONFLICT (email) DO NOTHING RETURNING id)
		SELECT id, true FROM ins UNION ALL SELECT id, false FROM platform.users WHERE email = $1 LIMIT 1`,
		v.UserEmail, v.UserName).Scan(&out.UserID, &out.NewAccount)
	if err != nil {
		return UserOutput{}, fmt.Errorf("create user: %w", err)
	}
	tag, err := o.deps.Platform.Exec(ctx, `INSERT INTO platform.memberships (organization_id, user_id, role)
		VALUES ($1, $2, $3) ON CONFLICT (organization_id, user_id) DO NOTHING`, v.OrganizationID, out.UserID, v.Role)
	if err != nil {
		return UserOutput{}, fmt.Errorf("create membership: %w", err)
	}
	out.NewMember = tag.RowsAffected() == 1
	progress(ctx, o.deps.Log, "user ready", "user_id", out.UserID, "new_account", out.NewAccount, "new_member", out.NewMember)
	return out, nil
}

// notify sends the legacy webhook for a new membership, with the request as
// validate-request normalised it (email lower-cased, role defaulted).
func (o *onboarding) notify(ctx hatchet.Context, _ OnboardingInput) (NotifyOutput, error) {
	var v OnboardingInput
	if err := ctx.StepOutput("validate-request", &v); err != nil {
		return NotifyOutput{}, fmt.Errorf("read validated request: %w", err)
	}
	var user UserOutput
	if err := ctx.StepOutput("create-user", &user); err != nil {
		return NotifyOutput{}, fmt.Errorf("read create-user output: %w", err)
	}
	switch {
	case !user.NewMember:
		progress(ctx, o.deps.Log, "already a member; no notification")
		return NotifyOutput{Reason: "already a member"}, nil
	case v.WebhookURL == "":
		return NotifyOutput{Reason: "no webhook_url"}, nil
	}
	payload := map[string]any{"event": "user.onboarded", "organization_id": v.OrganizationID,
		"user_id": user.UserID, "user_email": v.UserEmail, "role": v.Role}
	args, err := json.Marshal([]any{v.WebhookURL, payload})
	if err != nil {
		return NotifyOutput{}, fmt.Errorf("webhook arguments: %w", err)
	}
	out, err := CallCelery(ctx, o.deps, CeleryCall{Task: TaskSendWebhook, Args: args, Timeout: 300})
	if err != nil {
		return NotifyOutput{}, err
	}
	return NotifyOutput{Notified: true, CeleryTaskID: out.CeleryTaskID}, nil
}

const platformSchema = `
CREATE SCHEMA IF NOT EXISTS platform;
CREATE TABLE IF NOT EXISTS platform.organizations (
	id         text PRIMARY KEY,
	name       text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS platform.users (
	id         bigserial PRIMARY KEY,
	email      text NOT NULL UNIQUE,
	name       text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS platform.memberships (
	organization_id text NOT NULL REFERENCES platform.organizations (id),
	user_id         bigint NOT NULL REFERENCES platform.users (id),
	role            text NOT NULL,
	created_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (organization_id, user_id)
)`

// EnsurePlatformSchema creates the onboarding tables when they are missing.
func EnsurePlatformSchema(ctx context.Context, pool *pgxpool.Pool) error {
	if err := pgdb.CreateSchema(ctx, pool, platformSchema); err != nil {
		return fmt.Errorf("platform schema: %w", err)
	}
	return nil
}
