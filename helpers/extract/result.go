package extract

// Result is the text extracted from one document.
type Result struct {
	// Text is the extracted text.
	Text string `json:"text"`
	// Pages is the page count: the real count for PDF, 1 for formats without
	// pages, and for x2text one more than the number of form feeds.
	Pages int `json:"pages"`
	// Method names how the text was obtained: a [Format] ("pdf", "docx",
	// "html", "csv", "tsv", "text") or [MethodX2Text].
	Method string `json:"method"`
}

// MethodX2Text is the [Result.Method] of text returned by the x2text service.
const MethodX2Text = "x2text"
