// Package render turns a refund batch file from the ERP into a pain.001.
//
// Batch reads the file once (CSV or JSON, through package erp), checks
// every refund against the ERP's rules and the configuration (package
// refund), and returns a Plan: the problems of every line, or the ids
// (MsgId, PmtInfId, EndToEndIds) and the totals of each payment block that
// the pain.001 declares before its transactions. The transactions
// themselves wait in a temporary file without a name, one record each,
// so that memory does not grow with the batch; Plan.Render then streams
// the document from it, block by block, without reading the batch file
// again, and Plan.Close frees it. Selected does the same for an
// operator's re-release of some refunds under a new attempt. File is the
// render command: a batch to a pain.001 on a writer once the whole batch
// is checked, or its problems on another (summarised as they come, so a
// batch with a problem on every line is reported in bounded memory).
//
// Nothing here records or sends anything: the daemon writes the rendered
// file durably and records the intent before any upload.
package render
