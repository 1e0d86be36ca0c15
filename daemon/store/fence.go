//go:build !refundd_nofence

package store

// fenceChecked: every write checks the lease. Built with the tag
// refundd_nofence (only for the failover test's mutation check) the check
// is left out, and that test must then find a deposed leader's write.
const fenceChecked = true
