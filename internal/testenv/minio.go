package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// MinIO root credentials of the servers StartMinIO runs.
const (
	MinIOAccessKey = "testenv-admin"
	MinIOSecretKey = "testenv-secret-key"
)

// minioReadyTimeout bounds how long a fresh server may take to answer.
const minioReadyTimeout = 60 * time.Second

// MinIO is a MinIO server process a test started on a free loopback port,
// with its data in the test's temporary directory.
type MinIO struct {
	// Addr is the server's host:port.
	Addr string
	cmd  *exec.Cmd
	logs *Buffer
	done chan struct{}
}

// MinIOBinary returns the minio server binary: $MINIO_BIN, else minio on
// PATH, else $GOPATH/bin/minio, where scripts/setup.sh installs it.
func MinIOBinary() (string, error) { return minioBinary(build.Default.GOPATH) }

func minioBinary(gopath string) (string, error) {
	if p := os.Getenv("MINIO_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("MINIO_BIN: %w", err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	p := filepath.Join(gopath, "bin", "minio")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("minio server binary not found (MINIO_BIN, PATH, %s): run scripts/setup.sh, which installs it with go install", p)
	}
	return p, nil
}

// StartMinIO starts a MinIO server for the test, waits until it answers and
// stops it in t.Cleanup, logging its output if the test failed. With -short
// the test is skipped.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a MinIO server; skipped with -short")
	}
	bin, err := MinIOBinary()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	m := &MinIO{Addr: FreeAddr(t), logs: &Buffer{}, done: make(chan struct{})}
	m.cmd = exec.Command(bin, "server", "--quiet", "--address", m.Addr, t.TempDir())
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+MinIOAccessKey, "MINIO_ROOT_PASSWORD="+MinIOSecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	m.cmd.Stdout, m.cmd.Stderr = m.logs, m.logs
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("testenv: start minio: %v", err)
	}
	go func() { _ = m.cmd.Wait(); close(m.done) }()
	t.Cleanup(func() {
		m.Stop()
		if t.Failed() {
			t.Logf("minio log:\n%s", m.logs.String())
		}
	})
	if err := m.waitReady(m.Client(t)); err != nil {
		t.Fatalf("testenv: minio: %v\n%s", err, m.logs.String())
	}
	return m
}

// waitReady lists the buckets until the server answers: its liveness
// endpoint answers before it serves S3 requests.
func (m *MinIO) waitReady(c *minio.Client) error {
	deadline := time.Now().Add(minioReadyTimeout)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return errors.New("server exited before it was ready")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = c.ListBuckets(ctx)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %w", minioReadyTimeout, err)
}

// Endpoint is the server's URL, as endpoint_url in storage credentials.
func (m *MinIO) Endpoint() string { return "http://" + m.Addr }

// Stop kills the server and waits for it; a stopped server refuses
// connections, as storage that is down does.
func (m *MinIO) Stop() {
	if m.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.done
}

// Client returns a client with the root credentials.
func (m *MinIO) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(m.Addr, &minio.Options{Creds: credentials.NewStaticV4(MinIOAccessKey, MinIOSecretKey, "")})
	if err != nil {
		t.Fatalf("testenv: minio client: %v", err)
	}
	return c
}

// Put stores data as bucket/key, creating the bucket if needed.
func (m *MinIO) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	m.PutReader(t, bucket, key, bytes.NewReader(data), int64(len(data)))
}

// PutReader stores size bytes from r as bucket/key, creating the bucket if
// needed.
func (m *MinIO) PutReader(t testing.TB, bucket, key string, r io.Reader, size int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := m.Client(t)
	exists, err := c.BucketExists(ctx, bucket)
	if err == nil && !exists {
		err = c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{})
	}
	if err != nil {
		t.Fatalf("testenv: minio bucket %s: %v", bucket, err)
	}
	if _, err := c.PutObject(ctx, bucket, key, r, size, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("testenv: minio put %s/%s: %v", bucket, key, err)
	}
}
