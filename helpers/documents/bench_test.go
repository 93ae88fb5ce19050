package documents_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/unstract/hatchet-worker/helpers/documents"
	"github.com/unstract/hatchet-worker/helpers/extract"
	"github.com/unstract/hatchet-worker/internal/testenv"
)

// benchPDFSize is the size of the benchmark document.
const benchPDFSize = 20 << 20

// BenchmarkExtract20MB extracts the text of a 20 MB PDF (50 pages of text
// and a scanned-image-sized stream) read from the local disk and from a real
// MinIO server, and reports peak RSS during each (Linux: VmHWM after
// resetting it). scripts/bench-documents.sh runs each case in its own
// process and prints MinIO's cost relative to the disk's.
func BenchmarkExtract20MB(b *testing.B) {
	pdf := bigPDF(50, benchPDFSize)
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.pdf"), pdf, 0o600); err != nil {
		b.Fatal(err)
	}
	roots, err := documents.NewRoots(dir)
	if err != nil {
		b.Fatal(err)
	}
	m := testenv.StartMinIO(b)
	m.Put(b, "unstract", "execution/org/wf/ex/big.pdf", pdf)
	store, err := documents.NewObjectStore(documents.Credentials{Provider: documents.ProviderMinIO, EndpointURL: m.Endpoint(),
		Key: testenv.MinIOAccessKey, Secret: testenv.MinIOSecretKey})
	if err != nil {
		b.Fatal(err)
	}
	src, err := documents.NewSource(roots, 0, documents.Storage{Name: "execution", Prefix: "unstract/execution", Store: store})
	if err != nil {
		b.Fatal(err)
	}
	ex, err := extract.NewLocal()
	if err != nil {
		b.Fatal(err)
	}
	pdf = nil
	for _, c := range []struct{ name, path string }{
		{"disk", filepath.Join(dir, "big.pdf")},
		{"minio", "unstract/execution/org/wf/ex/big.pdf"},
	} {
		b.Run(c.name, func(b *testing.B) {
			base := resetPeakRSS()
			b.SetBytes(benchPDFSize)
			for b.Loop() {
				extractOnce(b, src, ex, c.path)
			}
			peak := rssMiB("VmHWM:")
			b.ReportMetric(peak, "peak-RSS-MiB")
			b.ReportMetric(peak-base, "RSS-growth-MiB")
		})
	}
}

func extractOnce(b *testing.B, src *documents.Source, ex extract.Extractor, path string) {
	doc, err := src.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer doc.Close()
	res, err := ex.Extract(context.Background(), doc, doc.Location.Name())
	if err != nil || res.Pages != 50 {
		b.Fatalf("extract: %v (%d pages)", err, res.Pages)
	}
}

// bigPDF returns a PDF of size bytes or a little more: pages pages of text
// and one unreferenced binary stream making up the rest, as a scan would.
func bigPDF(pages, size int) []byte {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
	kids := make([]string, pages)
	for i := range pages {
		var content strings.Builder
		for line := range 40 {
			fmt.Fprintf(&content, "BT /F1 10 Tf 40 %d Td (Page %d line %d: invoice items and totals) Tj ET\n", 760-18*line, i+1, line+1)
		}
		kids[i] = strconv.Itoa(len(objs)+1) + " 0 R"
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", len(objs)+2),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", content.Len(), content.String()))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages)
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, 0, len(objs)+1)
	for i, o := range objs {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	pad := max(size-b.Len()-200-20*len(offsets), 0)
	offsets = append(offsets, b.Len())
	fmt.Fprintf(&b, "%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(objs)+1, pad, bytes.Repeat([]byte{0xA5}, pad))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// resetPeakRSS returns freed memory to the OS, resets the kernel's
// high-water mark of this process's resident set and returns the resident
// set's size now.
func resetPeakRSS() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return rssMiB("VmRSS:")
}

// rssMiB reads a field of /proc/self/status in MiB: VmRSS, the resident
// set, or VmHWM, its high-water mark; 0 where /proc is missing.
func rssMiB(field string) float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
