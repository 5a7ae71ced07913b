//go:build !race

package syncengine

// raceEnabled reports a -race build, where load tests scale down.
const raceEnabled = false
