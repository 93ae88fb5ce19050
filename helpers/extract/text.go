package extract

import (
	"bytes"
	"strings"
)

// normalizeText returns data as text: without a UTF-8 byte-order mark, with
// CRLF and lone CR turned into LF, and with invalid UTF-8 replaced by U+FFFD.
func normalizeText(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	s := strings.ToValidUTF8(string(data), "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
