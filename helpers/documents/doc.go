// Package documents opens the documents a run names by document_path, and
// refuses the paths it must not read.
//
// # Model
//
// A [Source] knows two places documents come from:
//
//   - Local files, only inside [Roots] (DOCUMENTS_ROOTS). A path must be
//     absolute, have no ".." segment and lie inside a root after every
//     symbolic link is resolved; files are opened through [os.Root], which
//     refuses to leave its directory even if a link changes in between.
//     Without roots every local path is refused ([ErrNoRoots]).
//   - Objects in S3-compatible storage (MinIO, AWS S3), read with minio-go
//     through an [ObjectStore]. A document_path names one as
//     s3://bucket/key, or as bucket/key under a [Storage] prefix such as the
//     platform's "unstract/execution". Either way the object must lie under a
//     configured prefix ([ErrOutsideStorage]): the storage keys may reach
//     more than documents.
//
// [Source.Check] makes every decision that needs no download (the shim asks
// it before accepting a request); [Source.Open] checks again and returns a
// [Document] whose body streams from disk or from the server as the caller
// reads it, so a document is held in memory once, by whoever parses it.
//
// # Errors
//
// Callers branch with errors.Is on the sentinels in errors.go. All are
// permanent except [ErrUnavailable] (storage unreachable, timing out or
// failing with a server error), for which [Retryable] reports true. Storage
// keys never appear in errors.
package documents
