//go:build !race

package store_test

// raceDetector: the tests run under the race detector.
const raceDetector = false
