package discovery

import (
	"log"
	"log/slog"
)

// libraryLogger adapts our structured logger to the *log.Logger the mDNS
// library wants. Its messages are chatty and mostly expected (for instance
// "no IPv6"), so they go out at debug level.
func libraryLogger(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(orDiscard(l).Handler(), slog.LevelDebug)
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
