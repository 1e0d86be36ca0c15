//go:build refundd_nofence

package daemon

// cutWritesOnLoss is false in the failover test's mutation build: a
// deposed leader's store calls go on. Never ship this build.
const cutWritesOnLoss = false
