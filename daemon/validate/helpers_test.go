package validate

import "refundd/internal/testutil"

// now is the fixed clock of the tests.
var now = testutil.Now()
