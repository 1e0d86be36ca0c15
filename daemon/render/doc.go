// Package render turns a refund batch file from the ERP into a pain.001.
//
// Batch reads the file once (CSV or JSON, through package erp), checks
// every refund against the ERP's rules and the configuration (package
// refund), and returns a Plan: the problems of every line, or the ids
// (MsgId, PmtInfId, EndToEndIds) and the totals of each payment block that
// the pain.001 declares before its transactions. Plan.Render then streams
// the document, reading the file once more per block; a file that changed
// in between is refused (ErrChanged), never rendered from two contents.
// Selected does the same for an operator's re-release of some refunds
// under a new attempt. File is the render command: a batch to a pain.001
// on a writer, or every problem on another.
//
// Nothing here records or sends anything: the daemon writes the rendered
// file durably and records the intent before any upload.
package render
