package syncengine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The replicator offers CBMobile_4 first, so two PeerSync peers speak
// version vectors, and the pushed revision keeps its author's version;
// forced to v3 they speak revision trees and the peer records a legacy
// version. The status, the listener's counts and its event say which.
func TestReplicatorNegotiatesProtocol(t *testing.T) {
	for _, tc := range []struct {
		protocol Protocol
		want     string
	}{{ProtocolAuto, SubprotocolV4}, {ProtocolV4, SubprotocolV4}, {ProtocolV3, SubprotocolV3}} {
		t.Run("protocol="+string(tc.protocol), func(t *testing.T) {
			a, b := newPeer(t, "a"), newPeer(t, "b")
			sub := b.e.Subscribe(64)
			defer sub.Close()
			l, url := b.listen(t, nil)
			sent := a.put(t, "doc", `{"n":1}`)
			r := a.replicate(t, ReplicatorConfig{Target: url, Type: Push, Protocol: tc.protocol})
			if got := r.Status().Protocol; got != tc.want {
				t.Errorf("replicator status protocol = %q, want %q", got, tc.want)
			}
			opened := waitEvent(t, sub, func(ev Event) bool {
				o, ok := ev.(ConnectionOpened)
				return ok && o.ListenerID == l.ID()
			}).(ConnectionOpened)
			if opened.Protocol != tc.want {
				t.Errorf("ConnectionOpened.Protocol = %q, want %q", opened.Protocol, tc.want)
			}
			got, err := b.coll().Get("doc")
			if err != nil {
				t.Fatal(err)
			}
			if keeps := got.Vector.Current == sent.Vector.Current; keeps != (tc.want == SubprotocolV4) {
				t.Errorf("over %s the peer recorded version %v for the author's %v", tc.want, got.Vector, sent.Vector)
			}
			if got.RevID != sent.RevID {
				t.Errorf("peer's revision %s, want %s", got.RevID, sent.RevID)
			}
		})
	}
}

// A peer that refuses the WebSocket handshake when CBMobile_4 is offered
// (as peers that predate it may) gets a second handshake offering
// CBMobile_3 alone, and the replication completes over it.
func TestReplicatorFallsBackToCBMobile3(t *testing.T) {
	a, b := newPeer(t, "a"), newPeer(t, "b")
	_, listenerURL := b.listen(t, nil)
	backend, err := url.Parse(strings.Replace(listenerURL, "ws://", "http://", 1))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: backend.Host})
	var refused atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Sec-WebSocket-Protocol"), "CBMobile_4") {
			refused.Add(1)
			http.Error(w, "unsupported subprotocol", http.StatusBadRequest)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	a.put(t, "doc", `{"n":1}`)
	r := a.replicate(t, ReplicatorConfig{Target: strings.Replace(srv.URL, "http://", "ws://", 1) + backend.Path, Type: Push})
	if got := r.Status().Protocol; got != SubprotocolV3 {
		t.Errorf("protocol = %q, want %q", got, SubprotocolV3)
	}
	if refused.Load() != 1 {
		t.Errorf("%d handshakes offered CBMobile_4, want 1", refused.Load())
	}
	if _, err := b.coll().Get("doc"); err != nil {
		t.Errorf("the document did not arrive: %v", err)
	}

	// Forced to CBMobile_4, the replicator does not fall back.
	r, err = a.e.NewReplicator(ReplicatorConfig{Database: a.db, Target: strings.Replace(srv.URL, "http://", "ws://", 1) + backend.Path,
		Type: Push, Protocol: ProtocolV4, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("forced CBMobile_4 against a peer that refuses it: %v, want the HTTP 400", err)
	}
}

func TestParseProtocol(t *testing.T) {
	for in, want := range map[string]Protocol{"": ProtocolAuto, "auto": ProtocolAuto, "v4": ProtocolV4, "v3": ProtocolV3} {
		if got, err := ParseProtocol(in); err != nil || got != want {
			t.Errorf("ParseProtocol(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"V4", "4", "CBMobile_4", "v2"} {
		if _, err := ParseProtocol(in); err == nil || !strings.Contains(err.Error(), "auto, v4, v3") {
			t.Errorf("ParseProtocol(%q) error = %v, want one naming the choices", in, err)
		}
	}
	if _, err := newPeer(t, "a").e.NewReplicator(ReplicatorConfig{Target: "ws://127.0.0.1:1/db", Protocol: "v5"}); err == nil {
		t.Error("NewReplicator took protocol v5")
	}
}
