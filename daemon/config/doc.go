// Package config reads refundd's configuration file: strict YAML (an
// unknown key or a second document is an error), defaults filled in,
// relative paths resolved against the file's folder, and every problem
// reported at once by its key path ("sftp.timeout: must be positive").
//
// Load and Parse return a Config that is valid as a whole: the company,
// the debtor accounts and payment methods (from which Rules derives the
// ERP's rules for a day), the pain.001 version and time zone, the folders,
// the watcher, the SFTP connection to AutoPay (SFTPConfig gives it to
// package sftpx), the ledger accounts of the postings, the alarms, logging
// and HTTP. configs/refundd.example.yaml documents every key; a test loads
// it, and another checks that every key of Config appears in it.
package config
