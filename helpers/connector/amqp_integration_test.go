//go:build integration

package connector

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/unstract/hatchet-worker/internal/testenv"
)

func TestValidateAMQP(t *testing.T) {
	raw := testenv.AMQPURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	password, _ := u.User.Password()
	good := Settings{Type: "rabbitmq", Host: u.Hostname(), Port: port, User: u.User.Username(), Password: password}
	wrong := good
	wrong.Password = secret
	noVHost := good
	noVHost.VHost = "no-such-vhost"
	wrongURL := *u
	wrongURL.User = url.UserPassword(good.User, secret)

	tests := []check{
		{"fields", good, ""},
		{"url", Settings{Type: TypeAMQP, URL: raw}, ""},
		{"wrong password", wrong, "authentication failed"},
		{"wrong password in url", Settings{Type: TypeAMQP, URL: wrongURL.String()}, "authentication failed"},
		{"unknown vhost", noVHost, "no-such-vhost"},
	}
	runChecks(t, tests)
}
