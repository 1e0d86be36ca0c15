package reply

import (
	"flag"

	"refundd/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the fixed clock of the tests.
var now = testutil.Now()
