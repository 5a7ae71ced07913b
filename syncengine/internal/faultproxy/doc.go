// Package faultproxy is a TCP proxy for tests that misbehaves on purpose:
// it drops connections after a random number of bytes, delays and stalls
// traffic, cuts writes into small pieces (so frames arrive split), and can
// refuse connections. It listens on 127.0.0.1 only.
package faultproxy
