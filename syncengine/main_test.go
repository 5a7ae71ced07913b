package syncengine

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test left goroutines behind; tests that
// must prove they stop what they start also call checkNoLeaks.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
