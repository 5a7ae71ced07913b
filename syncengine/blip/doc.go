// Package blip implements BLIP v3, the multiplexed request/response protocol
// that Couchbase Mobile replication runs on, over a gorilla/websocket
// connection or any other Transport: NewStreamTransport frames BLIP over a
// plain byte stream, so tests can join two connections with net.Pipe.
//
// A BLIP message (request or response) is a set of string properties plus a
// body. Each message is cut into frames of at most 16 KiB (4 KiB while an
// urgent message waits) and each frame travels as one binary WebSocket
// message:
//
//	varint(number) varint(flags) payload CRC32
//
// The payload of a message's frames, joined, is varint(len(props)) props body.
// Every non-ACK frame ends with the running CRC-32 of all uncompressed payload
// sent in that direction; compressed frames share one raw-DEFLATE stream per
// direction, sync-flushed with the trailing 00 00 FF FF removed.
//
// Outgoing messages are sent round-robin, urgent ones ahead of normal ones.
// Per-message flow control: the receiver sends an ACK frame every 50,000 bytes
// of a message, and the sender pauses a message with more than 128,000
// unacknowledged bytes. Send blocks when MaxInFlight requests await answers or
// MaxQueuedBytes are waiting to go out, so a peer that stops reading cannot
// make memory grow without bound.
//
// Frames of a burst leave in one system call: Dial's connections, and those
// accepted on a BatchingListener, hold what the writer sends while it has
// more queued and send it before the writer waits.
//
// Use Dial (client), Accept (server) or NewConnOver to get a *Conn, register handlers with
// Handle, then call Start. Handlers run one at a time, in arrival order, on the
// connection's dispatch goroutine: slow work belongs on its own goroutine,
// which may respond later.
//
// Broken input is handled as the BLIP spec says: bad varints, empty or text
// frames, bad deflate data, checksum mismatches and oversized messages close
// the connection with WebSocket close code 1002; unknown frame types and
// frames for no live message are dropped. A request with malformed or
// oversized properties is answered with ERR 400 or 413 (dropped if it wants
// no reply), so its sender never waits forever.
//
// Memory for incoming messages is bounded per connection
// (Options.MaxBufferedBytes) and, through a shared MemoryBudget, across
// connections. Messages are assembled in chunks charged to the budget as
// they grow, so the inflater stops at the limit: a deflate bomb is refused
// while it arrives (ERR 413, or 503 when the shared budget is used up; close
// 1009 or 1013 when it cannot be answered) and the connection serves on.
package blip
