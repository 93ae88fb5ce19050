package documents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
)

// DefaultMaxSize is the default document size limit: 100 MiB.
const DefaultMaxSize = 100 << 20

// s3Scheme starts an object URL: s3://bucket/key.
const s3Scheme = "s3://"

// Storage is one object storage and the part of it documents may come
// from, like the platform's workflow-execution and API-deployment storages.
type Storage struct {
	// Name names the storage in errors and logs.
	Name string
	// Prefix is "bucket" or "bucket/key-prefix": objects are read only at
	// or below it, as the platform's WORKFLOW_EXECUTION_DIR_PREFIX
	// ("unstract/execution") places execution files.
	Prefix string
	// Store reads the objects; nil when the storage has no credentials,
	// which makes every path under Prefix fail with [ErrNoStorage].
	Store *ObjectStore
}

// Source opens documents by the document_path a run names: local files
// confined to [Roots], and objects in S3-compatible storage, either as
// s3://bucket/key or as bucket/key under a storage prefix. Objects are
// confined to the storages' prefixes as files are to the roots. Source is
// safe for concurrent use.
type Source struct {
	roots    *Roots
	storages []Storage
	maxSize  int64
}

// NewSource returns a Source reading local files inside roots (nil refuses
// them all) and objects from storages. Documents over maxSize bytes fail
// with [ErrTooLarge]; maxSize ≤ 0 means [DefaultMaxSize].
func NewSource(roots *Roots, maxSize int64, storages ...Storage) (*Source, error) {
	if roots == nil {
		roots = &Roots{}
	}
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	for _, st := range storages {
		if err := checkPrefix(st.Prefix); err != nil {
			return nil, fmt.Errorf("%w: storage %q: prefix %q: %w", ErrInvalidConfig, st.Name, st.Prefix, err)
		}
	}
	return &Source{roots: roots, storages: storages, maxSize: maxSize}, nil
}

// Location is where a document_path points: a local file or an object.
type Location struct {
	// Path is the local file's path; empty for objects.
	Path string
	// Storage, Bucket and Key name an object; empty for local files.
	Storage, Bucket, Key string
}

// String returns the path, or the object as s3://bucket/key.
func (l Location) String() string {
	if l.Path != "" {
		return l.Path
	}
	return s3Scheme + l.Bucket + "/" + l.Key
}

// Name returns the document's base name, used to detect its format.
func (l Location) Name() string {
	if l.Path != "" {
		return filepath.Base(l.Path)
	}
	return path.Base(l.Key)
}

// Check reports whether documentPath names a document this Source may
// read, without reading it: the checks a caller makes before accepting a
// request. Local paths are resolved (symbolic links included) but a
// missing file passes; objects are checked against the prefixes only.
func (s *Source) Check(documentPath string) error {
	loc, err := s.locate(documentPath)
	if err != nil {
		return err
	}
	if loc.Path != "" {
		return s.roots.Check(loc.Path)
	}
	return nil
}

// Document is an open document: its bytes as they are read, its size and
// where it came from. The caller closes it.
type Document struct {
	io.ReadCloser
	// Location is where it was read from.
	Location Location
	size     int64
}

// Size returns the document's length in bytes, known before it is read
// (readers such as extract's size their buffer by it).
func (d *Document) Size() int64 { return d.size }

// Open checks documentPath as [Source.Check] does and opens it. Errors
// wrap this package's sentinels; only [ErrUnavailable] is worth a retry
// (see [Retryable]).
func (s *Source) Open(ctx context.Context, documentPath string) (*Document, error) {
	loc, err := s.locate(documentPath)
	if err != nil {
		return nil, err
	}
	if loc.Path != "" {
		return s.openFile(loc)
	}
	st, _ := s.storage(loc.Bucket, loc.Key)
	body, size, err := st.Store.Open(ctx, loc.Bucket, loc.Key, s.maxSize)
	if err != nil {
		return nil, err
	}
	return &Document{ReadCloser: body, size: size, Location: loc}, nil
}

func (s *Source) openFile(loc Location) (*Document, error) {
	f, err := s.roots.Open(loc.Path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("documents: stat %q: %w", loc.Path, err)
	}
	if info.Size() > s.maxSize {
		f.Close()
		return nil, fmt.Errorf("%w: %q has %d bytes, the limit is %d", ErrTooLarge, loc.Path, info.Size(), s.maxSize)
	}
	return &Document{ReadCloser: f, size: info.Size(), Location: loc}, nil
}

// locate tells local paths from objects and checks an object's form and
// prefix. Absolute paths are local; s3:// URLs and relative paths under a
// storage prefix are objects.
func (s *Source) locate(documentPath string) (Location, error) {
	switch {
	case documentPath == "":
		return Location{}, fmt.Errorf("%w: empty path", ErrInvalidPath)
	case strings.HasPrefix(documentPath, s3Scheme):
		return s.object(strings.TrimPrefix(documentPath, s3Scheme), documentPath)
	case filepath.IsAbs(documentPath):
		return Location{Path: documentPath}, nil
	}
	loc, err := s.object(documentPath, documentPath)
	if err != nil && len(s.storages) == 0 {
		return Location{}, fmt.Errorf("%w: %q is not an absolute path", ErrInvalidPath, documentPath)
	}
	return loc, err
}

// object checks bucket/key against the storages.
func (s *Source) object(bucketKey, original string) (Location, error) {
	bucket, key, err := splitObject(bucketKey)
	if err != nil {
		return Location{}, fmt.Errorf("%w: %q: %w", ErrInvalidPath, original, err)
	}
	st, ok := s.storage(bucket, key)
	switch {
	case !ok:
		return Location{}, fmt.Errorf("%w: %q is not under %s", ErrOutsideStorage, original, s.prefixes())
	case st.Store == nil:
		return Location{}, fmt.Errorf("%w: %q is in the %s storage, which has no credentials", ErrNoStorage, original, st.Name)
	}
	return Location{Storage: st.Name, Bucket: bucket, Key: key}, nil
}

// storage returns the first storage whose prefix holds bucket/key.
func (s *Source) storage(bucket, key string) (Storage, bool) {
	full := bucket + "/" + key
	for _, st := range s.storages {
		if prefix := strings.Trim(st.Prefix, "/"); prefix != "" && strings.HasPrefix(full, prefix+"/") {
			return st, true
		}
	}
	return Storage{}, false
}

// prefixes lists the storage prefixes for an error message.
func (s *Source) prefixes() string {
	if len(s.storages) == 0 {
		return "any storage prefix (none is configured)"
	}
	names := make([]string, len(s.storages))
	for i, st := range s.storages {
		names[i] = fmt.Sprintf("%s (%s)", strings.Trim(st.Prefix, "/"), st.Name)
	}
	return strings.Join(names, " or ")
}

// checkPrefix accepts "bucket" or "bucket/key-prefix", slashes around it
// ignored.
func checkPrefix(prefix string) error {
	trimmed := strings.Trim(prefix, "/")
	if trimmed == "" {
		return errors.New("want bucket or bucket/key-prefix")
	}
	_, _, err := splitObject(trimmed + "/x")
	return err
}

// splitObject splits bucket/key, refusing empty, "." and ".." segments:
// prefixes confine objects by their names, so a name must mean one thing.
func splitObject(bucketKey string) (bucket, key string, err error) {
	bucket, key, _ = strings.Cut(bucketKey, "/")
	if bucket == "" || key == "" {
		return "", "", errors.New("want bucket/key")
	}
	for seg := range strings.SplitSeq(bucketKey, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsRune(seg, 0) {
			return "", "", errors.New(`empty, "." or ".." segment`)
		}
	}
	return bucket, key, nil
}
