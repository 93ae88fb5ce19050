package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// amqpConnectionName is how checks appear in the broker's connection list.
const amqpConnectionName = "unstract connector check"

// checkAMQP completes the AMQP handshake and returns the broker's product
// and version properties.
func checkAMQP(ctx context.Context, s Settings) (string, error) {
	cfg := amqp.Config{
		Dial:       dialContext(ctx),
		Properties: amqp.Table{"connection_name": amqpConnectionName},
	}
	conn, err := amqp.DialConfig(amqpURL(s), cfg)
	if err != nil {
		return "", amqpError(err)
	}
	deadline, _ := ctx.Deadline()
	defer func() { _ = conn.CloseDeadline(deadline) }()

	product, _ := conn.Properties["product"].(string)
	version, _ := conn.Properties["version"].(string)
	return strings.TrimSpace(product + " " + version), nil
}

// amqpURL returns the settings' URL, writing field-based settings as one.
func amqpURL(s Settings) string {
	if s.URL != "" {
		return s.URL
	}
	uri := amqp.URI{Scheme: "amqp", Host: s.Host, Port: s.Port, Username: s.User, Password: s.Password, Vhost: s.VHost}
	if s.TLS {
		uri.Scheme = "amqps"
	}
	if uri.Vhost == "" {
		uri.Vhost = "/"
	}
	return uri.String()
}

// dialContext returns a dial function for drivers that take no context: the
// connection it opens carries ctx's deadline and is interrupted when ctx
// ends, so a silent server cannot hold the check past its timeout.
func dialContext(ctx context.Context) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if deadline, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(deadline)
		}
		context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
		return conn, nil
	}
}

// amqpError marks credential refusals with errAuth.
func amqpError(err error) error {
	var amqpErr *amqp.Error
	if errors.As(err, &amqpErr) && amqpErr.Code == amqp.AccessRefused {
		return fmt.Errorf("%w: %w", errAuth, err)
	}
	return err
}
