// Package erp reads and writes the ERP's own files: the refund batch exports
// that the ERP (Visma.net Financials) drops into the export folder, in CSV or
// JSON, and the files refundd writes back for the ERP to import.
//
// Scan reads a batch export as a stream, one refund at a time, so a batch of
// any size is read in bounded memory (only the RefNbr index grows with the
// file). It reports every problem it finds, not just the first, each with its
// position ("batch.csv:12: Amount: …", "batch.json:refunds[3]: amount: …"),
// so that an operator can correct a rejected batch in one go. Summarise
// reports them to a person with identical warnings on many refunds once,
// counted ("batch.csv: 2,000 refunds: PaymentDate: warning: …").
//
// Writer writes the files for the ERP: status, postings, matches and
// exceptions, each atomically and the postings, matches and exceptions
// once. The postings are refundd's own CSV (EncodePostings) or, for
// Visma.net, the CSV of an import scenario on the Journal transactions
// window (EncodeVismaCSV) or one JSON document per journal transaction,
// the body of POST /v2/journaltransaction (EncodeVismaJSON).
package erp
