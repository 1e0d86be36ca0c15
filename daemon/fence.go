//go:build !refundd_nofence

package daemon

// cutWritesOnLoss: the store calls of a step are cut off when the
// leadership is lost. With the store's lease check it fences a deposed
// leader's writes; the build tag refundd_nofence (only for the failover
// test's mutation check) leaves both out.
const cutWritesOnLoss = true
