package documents

import "errors"

// Errors callers branch on with errors.Is. Every one but [ErrUnavailable]
// is permanent: the same document_path fails the same way again.
var (
	// ErrInvalidPath reports a document_path that names nothing this package
	// reads: empty, relative outside every storage prefix, holding ".." or
	// empty segments, or an s3:// URL without a bucket or key.
	ErrInvalidPath = errors.New("documents: invalid document path")
	// ErrNoRoots reports a local path while no document roots are configured,
	// so every local path is refused.
	ErrNoRoots = errors.New("documents: local paths are refused: no document roots are configured")
	// ErrOutsideRoots reports a local path that is, or resolves through a
	// symbolic link to, a file outside every document root.
	ErrOutsideRoots = errors.New("documents: path is outside the document roots")
	// ErrOutsideStorage reports an object outside every storage prefix.
	ErrOutsideStorage = errors.New("documents: object is outside the storage prefixes")
	// ErrNoStorage reports an object under a storage prefix whose storage
	// has no credentials configured.
	ErrNoStorage = errors.New("documents: no object storage configured")
	// ErrNotFound reports a missing file, bucket or object.
	ErrNotFound = errors.New("documents: not found")
	// ErrAccessDenied reports storage credentials the server refuses, or a
	// file the process may not read.
	ErrAccessDenied = errors.New("documents: access denied")
	// ErrNotRegular reports a local path naming a directory, device or other
	// non-regular file.
	ErrNotRegular = errors.New("documents: not a regular file")
	// ErrTooLarge reports a document over the size limit.
	ErrTooLarge = errors.New("documents: document too large")
	// ErrUnavailable reports storage that cannot be reached now (connection
	// refused, timeout, server error): retrying later may succeed.
	ErrUnavailable = errors.New("documents: storage unavailable")
	// ErrInvalidConfig reports unusable roots or storage settings.
	ErrInvalidConfig = errors.New("documents: invalid configuration")
)

// Retryable reports whether err may go away on its own: only storage that
// could not be reached is worth another attempt.
func Retryable(err error) bool {
	return errors.Is(err, ErrUnavailable)
}
