package documents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Providers accepted in [Credentials.Provider], as the platform names them.
const (
	ProviderMinIO = "minio"
	ProviderS3    = "s3"
)

// awsEndpoint is used for ProviderS3 without an endpoint URL.
const awsEndpoint = "https://s3.amazonaws.com"

// Credentials name an S3-compatible server and the keys requests are signed
// with: the "credentials" object of the platform's
// WORKFLOW_EXECUTION_FILE_STORAGE_CREDENTIALS and API_FILE_STORAGE_CREDENTIALS.
type Credentials struct {
	// Provider is ProviderMinIO or ProviderS3.
	Provider string
	// EndpointURL is the server's http(s) URL; empty means AWS S3.
	EndpointURL string
	// Key and Secret are the access key pair.
	Key, Secret string
	// Region is the bucket region; empty means us-east-1.
	Region string
}

// ObjectStore reads objects from one S3-compatible server. It is safe for
// concurrent use.
type ObjectStore struct {
	client  *minio.Client
	timeout time.Duration
}

// storeConfig holds the StoreOption values.
type storeConfig struct {
	timeout time.Duration
	retries int
}

// StoreOption configures an ObjectStore.
type StoreOption func(*storeConfig)

// WithReadTimeout bounds one document's download, from the request to the
// last byte (default 5 minutes).
func WithReadTimeout(d time.Duration) StoreOption { return func(c *storeConfig) { c.timeout = d } }

// WithRetries sets how often one request is retried on a network or server
// error, with the client's short backoff (default 3). Longer outages are left
// to the caller, which sees [ErrUnavailable].
func WithRetries(n int) StoreOption { return func(c *storeConfig) { c.retries = n } }

// NewObjectStore returns a store for the server c names. It does not
// contact the server; bad keys show at the first read as [ErrAccessDenied].
// It fails with [ErrInvalidConfig] on an unknown provider, a malformed
// endpoint or a missing key.
func NewObjectStore(c Credentials, opts ...StoreOption) (*ObjectStore, error) {
	cfg := storeConfig{timeout: 5 * time.Minute, retries: 3}
	for _, o := range opts {
		o(&cfg)
	}
	endpoint, secure, err := parseEndpoint(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if c.Key == "" || c.Secret == "" || cfg.timeout <= 0 || cfg.retries < 0 {
		return nil, fmt.Errorf("%w: storage needs a key and a secret, a positive timeout and retries ≥ 0", ErrInvalidConfig)
	}
	region := c.Region
	if region == "" {
		region = "us-east-1" // a fixed region spares a GetBucketLocation round trip
	}
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 30 * time.Second
	client, err := minio.New(endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(c.Key, c.Secret, ""), Secure: secure, Region: region,
		Transport: tr, MaxRetries: cfg.retries + 1, BucketLookup: lookup(c.Provider),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return &ObjectStore{client: client, timeout: cfg.timeout}, nil
}

// parseEndpoint returns the host:port and TLS use of c's server.
func parseEndpoint(c Credentials) (string, bool, error) {
	raw := c.EndpointURL
	switch {
	case c.Provider != ProviderMinIO && c.Provider != ProviderS3:
		return "", false, fmt.Errorf("provider %q not supported (want %s or %s)", c.Provider, ProviderMinIO, ProviderS3)
	case raw == "" && c.Provider == ProviderMinIO:
		return "", false, errors.New("minio storage needs an endpoint_url")
	case raw == "":
		raw = awsEndpoint
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", false, errors.New("endpoint_url must be an http(s) URL without a path")
	}
	return u.Host, u.Scheme == "https", nil
}

// lookup picks path-style requests for MinIO, which serves buckets under
// the endpoint's path, and lets the client choose for AWS.
func lookup(provider string) minio.BucketLookupType {
	if provider == ProviderMinIO {
		return minio.BucketLookupPath
	}
	return minio.BucketLookupAuto
}

// Open starts reading the object and returns it with its size. A missing
// bucket or object is [ErrNotFound], refused keys [ErrAccessDenied], an
// object over maxSize bytes [ErrTooLarge], and an unreachable or failing
// server [ErrUnavailable]. The body streams from the server as it is read;
// the caller closes it.
func (s *ObjectStore) Open(ctx context.Context, bucket, key string, maxSize int64) (io.ReadCloser, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	name := "s3://" + bucket + "/" + key
	obj, err := s.client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		cancel()
		return nil, 0, storeError(name, err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		cancel()
		return nil, 0, storeError(name, err)
	}
	if info.Size > maxSize {
		obj.Close()
		cancel()
		return nil, 0, fmt.Errorf("%w: %s has %d bytes, the limit is %d", ErrTooLarge, name, info.Size, maxSize)
	}
	return &objectBody{obj: obj, name: name, cancel: cancel}, info.Size, nil
}

// objectBody is an object being downloaded; Close ends the download.
type objectBody struct {
	obj    *minio.Object
	name   string
	cancel context.CancelFunc
}

// Read reads from the object; a failure mid-way is [ErrUnavailable].
func (b *objectBody) Read(p []byte) (int, error) {
	n, err := b.obj.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, storeError(b.name, err)
	}
	return n, err
}

// Close stops the download and releases its connection.
func (b *objectBody) Close() error {
	defer b.cancel()
	return b.obj.Close()
}

// storeError classifies a client error into this package's sentinels.
func storeError(name string, err error) error {
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, name, err)
	}
	return fmt.Errorf("%w: %s: %s (%s)", responseKind(resp), name, resp.Error(), resp.Code)
}

// responseKind maps an S3 error answer to a sentinel.
func responseKind(r minio.ErrorResponse) error {
	switch {
	case r.Code == "NoSuchKey" || r.Code == "NoSuchBucket" || r.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case r.Code == "AccessDenied" || r.Code == "InvalidAccessKeyId" || r.Code == "SignatureDoesNotMatch" ||
		r.StatusCode == http.StatusForbidden || r.StatusCode == http.StatusUnauthorized:
		return ErrAccessDenied
	case r.StatusCode == http.StatusBadRequest || r.Code == "InvalidBucketName" || r.Code == "XMinioInvalidObjectName":
		return ErrInvalidPath
	default: // 5xx, 429 SlowDown, timeouts
		return ErrUnavailable
	}
}
