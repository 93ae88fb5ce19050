package celerybridge_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// awaitSubscriber returns once someone listens on channel.
func awaitSubscriber(t *testing.T, ctx context.Context, rdb *redis.Client, channel string) {
	t.Helper()
	for {
		n, err := rdb.PubSubNumSub(ctx, channel).Result()
		if err != nil {
			t.Fatalf("pubsub numsub: %v", err)
		}
		if n[channel] > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRedisBackendErrorsHidePassword(t *testing.T) {
	for _, url := range []string{
		"redis://:hunter2@127.0.0.1:1/0",
		"redis://user:hunter2@127.0.0.1:6379/not-a-number",
		"redis://user:hunter2@127.0.0.1:6379/0?no_such_option=1",
		"redis://user:hunter2@%zz/0",
		"rediss://:hunter2@127.0.0.1:6379/0?ssl_cert_reqs=sometimes",
	} {
		_, err := celerybridge.Dial(testContext(t, 5*time.Second), testenv.DefaultAMQPURL, celerybridge.WithResultBackend(url))
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("dial %s: %v", strings.ReplaceAll(url, "hunter2", "xxxxx"), err)
		}
	}
}

// startTLSRedis runs a TLS-only redis-server with a fresh self-signed
// certificate for the test and returns its address.
func startTLSRedis(t *testing.T) string {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	_, port, err := net.SplitHostPort(testenv.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(server, "--port", "0", "--tls-port", port, "--bind", "127.0.0.1",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-auth-clients", "no",
		"--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if conn, err := net.Dial("tcp", addr); err == nil {
			_ = conn.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server with TLS did not listen on %s", addr)
		}
	}
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files in dir.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "celerybridge test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}
