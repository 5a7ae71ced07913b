package blip

import "sync/atomic"

// Stats are a connection's traffic counters.
type Stats struct {
	BytesSentWire     int64 // frame bytes written, headers and checksums included
	BytesReceivedWire int64 // frame bytes read
	BytesSent         int64 // uncompressed message bytes sent
	BytesReceived     int64 // uncompressed message bytes received
	MessagesSent      int64
	MessagesReceived  int64
	RequestsReceived  int64 // requests handed to handlers (MessagesReceived counts responses too)
}

type counters struct {
	bytesSentWire, bytesReceivedWire atomic.Int64
	bytesSent, bytesReceived         atomic.Int64
	messagesSent, messagesReceived   atomic.Int64
	requestsReceived                 atomic.Int64
}

// Stats returns a snapshot of the traffic counters.
func (c *Conn) Stats() Stats {
	return Stats{
		BytesSentWire:     c.stats.bytesSentWire.Load(),
		BytesReceivedWire: c.stats.bytesReceivedWire.Load(),
		BytesSent:         c.stats.bytesSent.Load(),
		BytesReceived:     c.stats.bytesReceived.Load(),
		MessagesSent:      c.stats.messagesSent.Load(),
		MessagesReceived:  c.stats.messagesReceived.Load(),
		RequestsReceived:  c.stats.requestsReceived.Load(),
	}
}
