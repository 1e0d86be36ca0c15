package main

// version is the release version of the binary, set when it is linked:
//
//	go build -ldflags "-X main.version=1.4.2" ./cmd/refundd
//
// Empty (a plain go build or go install), refundd version reports the
// main module's version instead, "(devel)" when it has none.
var version = ""
