package documents

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestSourceCheck(t *testing.T) {
	rootDir, _ := tree(t)
	roots, err := NewRoots(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	store, err := NewObjectStore(Credentials{Provider: ProviderMinIO, EndpointURL: "http://127.0.0.1:1", Key: "k", Secret: "s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(roots, 0,
		Storage{Name: "workflow-execution", Prefix: "unstract/execution", Store: store},
		Storage{Name: "api", Prefix: "/unstract/api/"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want error
		loc  Location
	}{
		{filepath.Join(rootDir, "org/invoice.txt"), nil, Location{Path: filepath.Join(rootDir, "org/invoice.txt")}},
		{"/etc/passwd", ErrOutsideRoots, Location{}},
		{"s3://unstract/execution/org/wf/ex/a.pdf", nil, Location{Storage: "workflow-execution", Bucket: "unstract", Key: "execution/org/wf/ex/a.pdf"}},
		{"unstract/execution/org/wf/ex/a.pdf", nil, Location{Storage: "workflow-execution", Bucket: "unstract", Key: "execution/org/wf/ex/a.pdf"}},
		{"s3://unstract/execution-other/a.pdf", ErrOutsideStorage, Location{}},
		{"s3://other-bucket/execution/a.pdf", ErrOutsideStorage, Location{}},
		{"s3://unstract/execution/../secrets/key", ErrInvalidPath, Location{}},
		{"s3://unstract/execution//a.pdf", ErrInvalidPath, Location{}},
		{"s3://unstract", ErrInvalidPath, Location{}},
		{"s3:///key", ErrInvalidPath, Location{}},
		{"unstract/api/org/a.pdf", ErrNoStorage, Location{}},
		{"docs/a.pdf", ErrOutsideStorage, Location{}},
		{"", ErrInvalidPath, Location{}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if err := src.Check(tt.path); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Check(%q) = %v, want %v", tt.path, err, tt.want)
			}
			if tt.want != nil {
				return
			}
			loc, err := src.locate(tt.path)
			if err != nil || loc != tt.loc {
				t.Errorf("locate(%q) = %+v, %v; want %+v", tt.path, loc, err, tt.loc)
			}
		})
	}
}

func TestSourceWithoutStoragesNamesRelativePaths(t *testing.T) {
	src, err := NewSource(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Check("docs/a.pdf"); !errors.Is(err, ErrInvalidPath) {
		t.Errorf("relative path without storages = %v, want ErrInvalidPath", err)
	}
	if err := src.Check("/data/a.pdf"); !errors.Is(err, ErrNoRoots) {
		t.Errorf("local path without roots = %v, want ErrNoRoots", err)
	}
}

func TestNewSourceRejectsPrefixes(t *testing.T) {
	for _, prefix := range []string{"", "/", "unstract/../x", "unstract//x"} {
		if _, err := NewSource(nil, 0, Storage{Name: "s", Prefix: prefix}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("prefix %q: err = %v, want ErrInvalidConfig", prefix, err)
		}
	}
}

func TestNewObjectStoreRejects(t *testing.T) {
	tests := []struct {
		name string
		c    Credentials
	}{
		{"unknown provider", Credentials{Provider: "gcs", EndpointURL: "http://x:9000", Key: "k", Secret: "s"}},
		{"minio without endpoint", Credentials{Provider: ProviderMinIO, Key: "k", Secret: "s"}},
		{"endpoint with path", Credentials{Provider: ProviderMinIO, EndpointURL: "http://x:9000/bucket", Key: "k", Secret: "s"}},
		{"ftp endpoint", Credentials{Provider: ProviderMinIO, EndpointURL: "ftp://x", Key: "k", Secret: "s"}},
		{"no secret", Credentials{Provider: ProviderS3, Key: "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewObjectStore(tt.c)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := NewObjectStore(Credentials{Provider: ProviderS3, Key: "k", Secret: "s"}); err != nil {
		t.Errorf("AWS S3 without endpoint: %v", err)
	}
}
