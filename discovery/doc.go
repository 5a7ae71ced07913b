// Package discovery finds PeerSync listeners on the local network and keeps
// the list of peers the user added by hand.
//
// A listener is announced over multicast DNS (RFC 6762) as a DNS-SD service
// of type _peersync._tcp (RFC 6763) with an Announcer. Its TXT record carries
// the stable peer ID, the database name, the replication protocol, whether
// TLS is on, with TLS the SHA-256 fingerprint of the listener's
// certificate so a replicator can pin it, and the "path" of the listener's
// URL. Peer.URL gives ws[s]://addr:port/<db>, the form listeners show,
// built by the syncengine/endpoint package.
//
// A Browser queries the network once per QueryInterval, because the
// underlying hashicorp/mdns client answers one query at a time. Peers are
// keyed by peer ID and database, so the same database reached under several
// instance names or addresses shows up once. A peer that stops answering for
// LostAfter is reported lost. Subscribers get the current peers first and
// then changes; a subscriber that does not keep up loses events rather than
// stalling the browser.
//
// The mDNS library keeps one IPv4 and one IPv6 address per answer, so a
// peer that announces several addresses of one family is listed with one of
// them. Answers are read when a query's listening window ends, because the
// library may still be filling them in until then.
//
// LoadOrCreatePeerID keeps the peer ID in the data directory so a peer is
// recognised across restarts.
//
// This package never imports Fyne or the app and ui packages; a test checks it.
package discovery
