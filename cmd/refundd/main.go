// Command refundd carries approved customer refunds from the ERP to the
// bank through Visma AutoPay and the bank's answers back into the books.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
