// Package connector checks a connector's settings by really connecting to
// the system they name, within a timeout. It backs the connector-validation
// workflow: a user fills in a connector form, and before the settings are
// saved the platform asks "can we reach it, and does it accept us?".
//
// The model is one call, [Validate], taking [Settings] (the JSON form the
// platform sends) and returning a [Result] (the JSON form it stores):
//
//   - Settings that cannot describe a connection at all (unknown type,
//     missing host, port out of range, relative path, …) are a caller
//     mistake: Validate returns an error wrapping [ErrInvalidSettings] and
//     does not touch the network. Retrying cannot help.
//   - Settings that are well formed but do not work (connection refused,
//     timeout, wrong password, missing directory, …) are the answer the
//     check exists to give: Validate returns a Result with OK false and a
//     human-readable Error, and a nil error.
//   - When the caller's own context ends first, Validate returns its error:
//     no verdict was reached.
//
// Each connector type lives in its own file and speaks its own protocol with
// the official Go driver: PostgreSQL (pgx), MySQL and MariaDB
// (go-sql-driver/mysql), Redis (go-redis), AMQP 0-9-1 brokers such as
// RabbitMQ (amqp091-go), and local or mounted filesystems. S3 and other
// object stores are not covered.
//
// Secrets never leave the package: the password, in every encoding a driver
// might echo it, and the userinfo of any URL are masked in Result.Error, in
// the error returned for invalid settings, and in the String and LogValue
// forms of Settings. A very short password makes this masking coarse (every
// occurrence of those characters is masked), which is the safe side to err on.
package connector
