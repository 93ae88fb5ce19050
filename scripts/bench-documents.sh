#!/usr/bin/env bash
# bench-documents.sh measures extracting the text of a 20 MB PDF read from the
# local disk and from a real MinIO server (started by the benchmark), each in
# its own test process so that peak RSS is that case's alone. It prints each
# case's time per document, throughput, peak RSS and RSS growth, then MinIO's
# time relative to the disk's (the disk is the ceiling). Nothing is asserted.
# Usage: scripts/bench-documents.sh [iterations]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10}"
bin="$(mktemp -d)/documents.test"
go test -c -o "$bin" ./helpers/documents
declare -A ns
for c in disk minio; do
	line=$("$bin" -test.run '^$' -test.bench "Extract20MB/$c\$" -test.benchtime "${N}x" | grep '^BenchmarkExtract20MB')
	echo "$line"
	ns[$c]=$(awk '{print $3}' <<<"$line")
done
awk -v d="${ns[disk]}" -v m="${ns[minio]}" 'BEGIN { printf "minio/disk time: %.2fx (disk %.1f ms, minio %.1f ms per 20 MB document)\n", m/d, d/1e6, m/1e6 }'
rm -rf "$(dirname "$bin")"
