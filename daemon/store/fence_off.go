//go:build refundd_nofence

package store

// fenceChecked is false in the failover test's mutation build: a write
// does not check the lease (and the daemon does not cut off a deposed
// leader's store calls). Never ship this build.
const fenceChecked = false
