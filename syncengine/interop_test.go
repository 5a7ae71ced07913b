package syncengine

// Interoperability tests against a running Couchbase Sync Gateway (4.x
// speaks CBMobile_4 and CBMobile_3, 3.x CBMobile_3 only). They need a peer
// from the environment and skip otherwise, so the package's tests stay
// self-contained:
//
//	PEERSYNC_INTEROP_SG_URL        ws://127.0.0.1:4984/db   (the database's BLIP URL, without /_blipsync)
//	PEERSYNC_INTEROP_SG_USER       a user that can read and write every channel
//	PEERSYNC_INTEROP_SG_PASSWORD   that user's password
//	PEERSYNC_INTEROP_SG_ADMIN_URL  http://127.0.0.1:4985    (admin REST API; the ISGR tests need it)
//	PEERSYNC_INTEROP_SG_COLLECTION a named collection of that database, "foo" or "scope.name" (optional)
//	PEERSYNC_INTEROP_SG_PROTOCOL   what PeerSync's replicators offer: auto (default), v4 or v3; run the
//	                               suite with v4 and with v3 to check both protocols
//
// The TLS variant of the ISGR test also needs Sync Gateway to accept our
// self-signed certificate: set the database's "unsupported":
// {"sgr_tls_skip_verify": true} and PEERSYNC_INTEROP_SG_TLS_SKIP_VERIFY=1.
// See docs/compatibility.md.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"peersync/syncengine/blip"
)

// syncGateway is the Sync Gateway under test.
type syncGateway struct {
	blipURL    string // ws://host:port/db
	publicURL  string // http://host:port/db
	adminURL   string // http://host:port (may be "")
	db         string
	user, pass string
	protocol   Protocol // what the tests' replicators offer
}

func syncGatewayFromEnv(t *testing.T) *syncGateway {
	t.Helper()
	raw := os.Getenv("PEERSYNC_INTEROP_SG_URL")
	if raw == "" {
		t.Skip("interop: set PEERSYNC_INTEROP_SG_URL (e.g. ws://127.0.0.1:4984/db), PEERSYNC_INTEROP_SG_USER, " +
			"PEERSYNC_INTEROP_SG_PASSWORD and PEERSYNC_INTEROP_SG_ADMIN_URL to run against a Sync Gateway")
	}
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSuffix(raw, "/_blipsync"), "/"))
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		t.Fatalf("PEERSYNC_INTEROP_SG_URL %q is not a ws:// or wss:// URL", raw)
	}
	sg := &syncGateway{blipURL: u.String(), db: strings.Trim(u.Path, "/"),
		user: os.Getenv("PEERSYNC_INTEROP_SG_USER"), pass: os.Getenv("PEERSYNC_INTEROP_SG_PASSWORD"),
		adminURL: strings.TrimSuffix(os.Getenv("PEERSYNC_INTEROP_SG_ADMIN_URL"), "/")}
	if sg.protocol, err = ParseProtocol(os.Getenv("PEERSYNC_INTEROP_SG_PROTOCOL")); err != nil {
		t.Fatalf("PEERSYNC_INTEROP_SG_PROTOCOL: %v", err)
	}
	// The REST calls keep connections open; close them so that the
	// package's leak check sees none.
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	pub := *u
	pub.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	sg.publicURL = pub.String()
	return sg
}

func (sg *syncGateway) needAdmin(t *testing.T) {
	if sg.adminURL == "" {
		t.Skip("interop: set PEERSYNC_INTEROP_SG_ADMIN_URL (e.g. http://127.0.0.1:4985) for this test")
	}
}

// checkProtocol fails the test when a forced protocol was not the one
// spoken.
func (sg *syncGateway) checkProtocol(t *testing.T, st ReplicatorStatus) {
	t.Helper()
	want := map[Protocol]string{ProtocolV4: SubprotocolV4, ProtocolV3: SubprotocolV3}[sg.protocol]
	if want != "" && st.Protocol != want {
		t.Errorf("the replication spoke %q, want %q", st.Protocol, want)
	}
	if want == "" {
		t.Logf("negotiated %s", st.Protocol)
	}
}

func (sg *syncGateway) auth() ReplicatorAuthenticator {
	return BasicAuthenticator{Username: sg.user, Password: sg.pass}
}

// do sends a REST request: to the public API as the user, or to the admin API.
func (sg *syncGateway) do(t *testing.T, admin bool, method, path string, body any) (int, []byte) {
	t.Helper()
	base := sg.publicURL
	if admin {
		base = sg.adminURL + "/" + sg.db
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !admin {
		req.SetBasicAuth(sg.user, sg.pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// sgDoc is a document as Sync Gateway's REST API shows it.
type sgDoc map[string]any

func (d sgDoc) rev() string { s, _ := d["_rev"].(string); return s }

// named is how Sync Gateway names the document's current revision.
func (d sgDoc) named() sgRev {
	cv, _ := d["_cv"].(string)
	return sgRev{rev: d.rev(), cv: cv}
}

// sgRev is a revision as Sync Gateway names it: its revision ID and (4.x)
// its current version.
type sgRev struct{ rev, cv string }

// is reports whether local is that revision: the same revision ID, which a
// CBMobile_3 session keeps, or the same current version, which CBMobile_4
// keeps while Sync Gateway gives the version a revision ID of its own.
func (r sgRev) is(local *Document) bool {
	return local.RevID == r.rev || (r.cv != "" && local.Vector.Current.String() == r.cv)
}

// sameRevision reports whether two PeerSync documents that replicated
// through Sync Gateway are at the same revision, by either name.
func sameRevision(x, y *Document) bool {
	return x.RevID == y.RevID || (!x.Vector.IsZero() && x.Vector.Current == y.Vector.Current)
}

// get reads a document's current revision; ok is false when it is missing or deleted.
func (sg *syncGateway) get(t *testing.T, id string) (sgDoc, bool) {
	t.Helper()
	st, body := sg.do(t, false, "GET", "/"+url.PathEscape(id), nil)
	if st == http.StatusNotFound {
		return nil, false
	}
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d %s", id, st, body)
	}
	var d sgDoc
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("GET %s: %v", id, err)
	}
	return d, true
}

// put writes a document through the REST API and returns its new revision.
func (sg *syncGateway) put(t *testing.T, id, rev string, body map[string]any) sgRev {
	t.Helper()
	path := "/" + url.PathEscape(id)
	if rev != "" {
		path += "?rev=" + url.QueryEscape(rev)
	}
	st, out := sg.do(t, false, "PUT", path, body)
	if st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("PUT %s: %d %s", id, st, out)
	}
	var r struct{ Rev, CV string }
	json.Unmarshal(out, &r)
	return sgRev{rev: r.Rev, cv: r.CV}
}

// leaves lists every leaf revision of a document (GET ?open_revs=all).
func (sg *syncGateway) leaves(t *testing.T, id string) []sgDoc {
	t.Helper()
	st, out := sg.do(t, true, "GET", "/"+url.PathEscape(id)+"?revs=true&open_revs=all", nil)
	if st != http.StatusOK {
		t.Fatalf("GET %s open_revs=all: %d %s", id, st, out)
	}
	var rows []struct {
		OK sgDoc `json:"ok"`
	}
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("open_revs=all of %s: %v: %s", id, err, out)
	}
	var docs []sgDoc
	for _, r := range rows {
		if r.OK != nil {
			docs = append(docs, r.OK)
		}
	}
	return docs
}

// uniquePrefix keeps each run's documents apart in a long-lived Sync Gateway.
func uniquePrefix(test string) string {
	return fmt.Sprintf("%s-%d-", test, time.Now().UnixNano())
}

// replicateWith runs a one-shot replication and returns its final status.
func (p *peer) replicateWith(t *testing.T, cfg ReplicatorConfig) ReplicatorStatus {
	t.Helper()
	return p.replicate(t, cfg).Status()
}

// TestInteropSGPushThenPull pushes documents, updates, a deletion and a
// blob to Sync Gateway, checks them there, then pulls them into a second
// database, with a document-ID filter, and checks that a second run of
// each replication transfers nothing.
func TestInteropSGPushThenPull(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	pre := uniquePrefix("push")
	a := newPeer(t, "a")
	ids := []string{pre + "doc", pre + "gone", pre + "blob"}

	a.put(t, ids[0], `{"title":"first","n":1}`)
	gone := a.put(t, ids[1], `{"title":"to delete"}`)
	data := bytes.Repeat([]byte("PeerSync blob "), 500)
	ref, err := a.coll().SaveBlob(data, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	refJSON, _ := json.Marshal(map[string]any{"@type": "blob", "digest": ref.Digest, "length": ref.Length, "content_type": ref.ContentType})
	a.put(t, ids[2], `{"photo":`+string(refJSON)+`}`)
	a.put(t, pre+"other", `{"not":"replicated"}`) // outside the document-ID filter

	push := ReplicatorConfig{Target: sg.blipURL, Protocol: sg.protocol, Type: Push, Authenticator: sg.auth(), DocumentIDs: ids}
	if st := a.replicateWith(t, push); st.Pushed != 3 {
		t.Fatalf("first push sent %d documents, want 3 (error %v)", st.Pushed, st.Error)
	} else {
		sg.checkProtocol(t, st)
	}
	if d, ok := sg.get(t, ids[0]); !ok || d["title"] != "first" {
		t.Fatalf("Sync Gateway has %v", d)
	}
	if _, ok := sg.get(t, pre+"other"); ok {
		t.Fatal("a document outside the document-ID filter was pushed")
	}
	// Sync Gateway must have fetched the blob: it is served as an attachment.
	st, got := sg.do(t, false, "GET", "/"+url.PathEscape(ids[2])+"/"+url.PathEscape("blob_/photo"), nil)
	if st != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("blob as attachment on Sync Gateway: status %d, %d bytes (want %d)", st, len(got), len(data))
	}

	// Updates and a deletion.
	a.put(t, ids[0], `{"title":"second","n":2}`)
	if _, err := a.coll().Delete(ids[1], gone.RevID); err != nil {
		t.Fatal(err)
	}
	if st := a.replicateWith(t, push); st.Pushed != 2 {
		t.Fatalf("second push sent %d documents, want 2 (error %v)", st.Pushed, st.Error)
	}
	if d, _ := sg.get(t, ids[0]); d["title"] != "second" {
		t.Fatalf("update not on Sync Gateway: %v", d)
	}
	if _, ok := sg.get(t, ids[1]); ok {
		t.Fatal("deletion not on Sync Gateway")
	}
	if st := a.replicateWith(t, push); st.Pushed != 0 || st.Progress.Total != 0 {
		t.Fatalf("a push with nothing new sent %d and offered %d", st.Pushed, st.Progress.Total)
	}

	// A document made on Sync Gateway, then everything pulled into b.
	sgOnly := pre + "from-sg"
	sg.put(t, sgOnly, "", map[string]any{"made": "by Sync Gateway"})
	b := newPeer(t, "b")
	pull := ReplicatorConfig{Target: sg.blipURL, Protocol: sg.protocol, Type: Pull, Authenticator: sg.auth(), DocumentIDs: append(slices.Clone(ids), sgOnly)}
	if st := b.replicateWith(t, pull); st.Pulled != 4 {
		t.Fatalf("pull received %d documents, want 4 (error %v)", st.Pulled, st.Error)
	} else {
		sg.checkProtocol(t, st)
	}
	for _, id := range ids {
		x, _ := a.coll().GetWithTombstone(id)
		y, err := b.coll().GetWithTombstone(id)
		if err != nil {
			t.Fatalf("%s after the round trip: %v", id, err)
		}
		if !sameRevision(x, y) || x.Deleted != y.Deleted || !jsonEqual(x.Body, y.Body) {
			t.Fatalf("%s after the round trip: %s %v %s, want %s %v %s", id, y.RevID, y.Deleted, y.Body, x.RevID, x.Deleted, x.Body)
		}
	}
	if d, err := b.coll().Get(sgOnly); err != nil || !strings.Contains(string(d.Body), "by Sync Gateway") {
		t.Fatalf("document made on Sync Gateway: %v %v", d, err)
	}
	if blob, err := b.coll().GetBlob(ref.Digest); err != nil || !bytes.Equal(blob, data) {
		t.Fatalf("blob not pulled: %v", err)
	}
	if _, err := b.coll().Get(pre + "other"); !IsNotFound(err) {
		t.Fatalf("a document outside the filter reached b: %v", err)
	}
	if st := b.replicateWith(t, pull); st.Pulled != 0 || st.Progress.Total != 0 {
		t.Fatalf("a pull with nothing new received %d and requested %d", st.Pulled, st.Progress.Total)
	}
}

// TestInteropSGAttachmentFromSG pulls a document whose attachment was
// added through Sync Gateway's REST API.
func TestInteropSGAttachmentFromSG(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	id := uniquePrefix("att") + "doc"
	rev := sg.put(t, id, "", map[string]any{"kind": "with attachment"})
	data := []byte("attachment bytes made by Sync Gateway's REST API")
	req, _ := http.NewRequest("PUT", sg.publicURL+"/"+url.PathEscape(id)+"/note.txt?rev="+url.QueryEscape(rev.rev), bytes.NewReader(data))
	req.SetBasicAuth(sg.user, sg.pass)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT attachment: %s", resp.Status)
	}
	p := newPeer(t, "p")
	p.replicate(t, ReplicatorConfig{Target: sg.blipURL, Protocol: sg.protocol, Type: Pull, Authenticator: sg.auth(), DocumentIDs: []string{id}})
	d, err := p.coll().Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if blob, err := p.coll().GetBlob(BlobDigestOf(data)); err != nil || !bytes.Equal(blob, data) {
		t.Fatalf("attachment not fetched: %v (doc %s)", err, d.Body)
	}
	// Couchbase Lite keeps the attachment's metadata in the body.
	var body struct {
		Attachments map[string]map[string]any `json:"_attachments"`
	}
	json.Unmarshal(d.Body, &body)
	if a := body.Attachments["note.txt"]; a == nil || a["digest"] != BlobDigestOf(data) {
		t.Fatalf("pulled body %s: want _attachments[note.txt] with the digest", d.Body)
	}
}

// TestInteropSGConflict makes both sides edit a document while apart; a
// pushAndPull resolves it in PeerSync and Sync Gateway ends with one live
// leaf, the resolution.
func TestInteropSGConflict(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	sg.needAdmin(t)
	for _, tc := range []struct {
		name     string
		resolver ConflictResolver
		want     string // the title the resolution keeps
	}{
		{"localWins", LocalWins, "peersync"},
		{"remoteWins", RemoteWins, "sync gateway"},
		{"merge", func(c Conflict) (Revision, error) {
			return Revision{Body: []byte(`{"title":"merged"}`)}, nil
		}, "merged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := uniquePrefix("conflict-"+tc.name) + "doc"
			p := newPeer(t, "p")
			cfg := ReplicatorConfig{Target: sg.blipURL, Protocol: sg.protocol, Type: PushAndPull, Authenticator: sg.auth(),
				DocumentIDs: []string{id}, ConflictResolver: tc.resolver}
			p.put(t, id, `{"title":"original"}`)
			p.replicate(t, cfg)
			base, ok := sg.get(t, id)
			if !ok {
				t.Fatal("document not pushed")
			}
			p.put(t, id, `{"title":"peersync"}`)
			sg.put(t, id, base.rev(), map[string]any{"title": "sync gateway"})

			p.replicate(t, cfg)
			local, err := p.coll().Get(id)
			if err != nil || local.Conflicted {
				t.Fatalf("PeerSync after resolving: %+v %v", local, err)
			}
			if !strings.Contains(string(local.Body), `"`+tc.want+`"`) {
				t.Fatalf("PeerSync kept %s, want title %q", local.Body, tc.want)
			}
			var live []sgDoc
			for _, l := range sg.leaves(t, id) {
				if l["_deleted"] != true {
					live = append(live, l)
				}
			}
			if len(live) != 1 || !live[0].named().is(local) || live[0]["title"] != tc.want {
				t.Fatalf("Sync Gateway's live leaves %v, want only %s with title %q", live, local.RevID, tc.want)
			}
			// Nothing left to do: a second run moves nothing.
			if st := p.replicateWith(t, cfg); st.Pushed+st.Pulled != 0 {
				t.Fatalf("second run moved %d+%d documents", st.Pushed, st.Pulled)
			}
		})
	}
}

// TestInteropSGConflictWithDeletion: Sync Gateway deletes a document that
// PeerSync edits meanwhile; with the default resolver the deletion wins on
// both sides, as in Couchbase Lite.
func TestInteropSGConflictWithDeletion(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	sg.needAdmin(t)
	id := uniquePrefix("conflict-delete") + "doc"
	p := newPeer(t, "p")
	cfg := ReplicatorConfig{Target: sg.blipURL, Protocol: sg.protocol, Type: PushAndPull, Authenticator: sg.auth(), DocumentIDs: []string{id}}
	p.put(t, id, `{"title":"original"}`)
	p.replicate(t, cfg)
	base, ok := sg.get(t, id)
	if !ok {
		t.Fatal("document not pushed")
	}
	p.put(t, id, `{"title":"edited in PeerSync"}`)
	if st, out := sg.do(t, false, "DELETE", "/"+url.PathEscape(id)+"?rev="+url.QueryEscape(base.rev()), nil); st != http.StatusOK {
		t.Fatalf("DELETE on Sync Gateway: %d %s", st, out)
	}
	p.replicate(t, cfg)
	if d, err := p.coll().GetWithTombstone(id); err != nil || !d.Deleted || d.Conflicted {
		t.Fatalf("PeerSync after resolving: %+v %v, want deleted", d, err)
	}
	for _, l := range sg.leaves(t, id) {
		if l["_deleted"] != true {
			t.Fatalf("Sync Gateway still has a live leaf %v", l)
		}
	}
}

// TestInteropSGContinuous runs a continuous pushAndPull and watches
// changes flow both ways while it is connected.
func TestInteropSGContinuous(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	pre := uniquePrefix("cont")
	p := newPeer(t, "p")
	// Sync Gateway refuses a document-ID filter on a continuous pull (see
	// TestInteropSGContinuousDocIDs), so this run filters on our side.
	mine := func(_, id, _ string, _ bool, _ []byte) bool { return strings.HasPrefix(id, pre) }
	r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: sg.blipURL, Protocol: sg.protocol, Type: PushAndPull, Continuous: true,
		Authenticator: sg.auth(), PushFilter: mine, PullFilter: mine})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	defer r.Stop()
	waitFor(t, "the replicator to go idle", func() bool { return r.Status().Activity == Idle })

	d := p.put(t, pre+"up", `{"dir":"up"}`)
	waitFor(t, "the pushed document on Sync Gateway", func() bool {
		got, ok := sg.get(t, pre+"up")
		return ok && got.named().is(d)
	})
	rev := sg.put(t, pre+"down", "", map[string]any{"dir": "down"})
	waitFor(t, "the pulled document in PeerSync", func() bool {
		got, err := p.coll().Get(pre + "down")
		return err == nil && rev.is(got)
	})
	if _, err := p.coll().Delete(pre+"up", d.RevID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deletion on Sync Gateway", func() bool { _, ok := sg.get(t, pre+"up"); return !ok })
	if st := r.Status(); st.Error != nil {
		t.Fatalf("continuous replicator error: %v", st.Error)
	}
}

// TestInteropSGContinuousDocIDs: Sync Gateway answers a continuous
// subChanges with a docIDs body with HTTP 400, as it would Couchbase Lite's
// (which sends the same request); the replicator stops with that error
// instead of retrying.
func TestInteropSGContinuousDocIDs(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	p := newPeer(t, "p")
	r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: sg.blipURL, Protocol: sg.protocol, Type: Pull, Continuous: true,
		Authenticator: sg.auth(), DocumentIDs: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	defer r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = r.Wait(ctx)
	if err == nil || IsTransient(err) || !strings.Contains(err.Error(), "400") {
		t.Fatalf("continuous pull with document IDs: %v, want a permanent 400", err)
	}
}

// TestInteropSGBadPassword checks that wrong credentials stop the
// replicator with a permanent error, as Couchbase Lite does on 401.
func TestInteropSGBadPassword(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	p := newPeer(t, "p")
	r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: sg.blipURL, Protocol: sg.protocol, Type: Pull,
		Authenticator: BasicAuthenticator{Username: sg.user, Password: sg.pass + "-wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = r.Wait(ctx)
	if err == nil || IsTransient(err) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong password: %v, want a permanent 401", err)
	}
}

// isgr drives one of Sync Gateway's own replications (ISGR) against a
// PeerSync listener and waits for it to stop (one-shot) or returns its ID.
func (sg *syncGateway) startISGR(t *testing.T, remote, direction string, continuous bool) string {
	t.Helper()
	id := strings.TrimSuffix(uniquePrefix("isgr-"+direction), "-")
	st, out := sg.do(t, true, "PUT", "/_replication/"+id, map[string]any{
		"replication_id": id, "remote": remote, "direction": direction, "continuous": continuous,
		"conflict_resolution_type": "default", "purge_on_removal": false,
	})
	if st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("create replication: %d %s", st, out)
	}
	t.Cleanup(func() { sg.do(t, true, "DELETE", "/_replication/"+id, nil) })
	return id
}

type isgrStatus struct {
	Status       string `json:"status"`
	ErrorMessage string `json:"error_message"`
	DocsRead     int64  `json:"docs_read"`
	DocsWritten  int64  `json:"docs_written"`
	DocsPushed   int64  `json:"docs_checked_push"`
}

func (sg *syncGateway) isgrStatus(t *testing.T, id string) isgrStatus {
	t.Helper()
	st, out := sg.do(t, true, "GET", "/_replicationStatus/"+id, nil)
	if st != http.StatusOK {
		t.Fatalf("replication status: %d %s", st, out)
	}
	var s isgrStatus
	json.Unmarshal(out, &s)
	return s
}

func (sg *syncGateway) waitISGRStopped(t *testing.T, id string) isgrStatus {
	t.Helper()
	var s isgrStatus
	waitFor(t, "Sync Gateway's replication "+id+" to stop", func() bool {
		s = sg.isgrStatus(t, id)
		return s.Status == "stopped" || s.Status == "error"
	})
	if s.Status == "error" || s.ErrorMessage != "" {
		t.Fatalf("Sync Gateway's replication failed: %+v", s)
	}
	return s
}

// TestInteropISGR runs Sync Gateway's own replicator against a PeerSync
// listener with Basic auth: one-shot push and pull, then continuous, over
// plain WebSocket and over TLS.
func TestInteropISGR(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	sg.needAdmin(t)
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "ws", true: "tls"}[useTLS]
		t.Run(name, func(t *testing.T) {
			if useTLS && os.Getenv("PEERSYNC_INTEROP_SG_TLS_SKIP_VERIFY") == "" {
				t.Skip("interop: Sync Gateway must skip TLS verification for our self-signed certificate " +
					`(database "unsupported": {"sgr_tls_skip_verify": true}); then set PEERSYNC_INTEROP_SG_TLS_SKIP_VERIFY=1`)
			}
			runISGR(t, sg, useTLS)
		})
	}
}

func runISGR(t *testing.T, sg *syncGateway, useTLS bool) {
	pre := uniquePrefix("isgr")
	p := newPeer(t, "notes")
	events := p.e.Subscribe(1024)
	defer events.Close()
	l, _ := p.listen(t, func(c *ListenerConfig) {
		c.DisableTLS = !useTLS
		c.Authenticator = PasswordAuthenticator(func(u, pw string) bool { return u == "alice" && pw == "pass" })
	})
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	remote := fmt.Sprintf("%s://alice:pass@127.0.0.1:%d/notes", scheme, l.Port())

	// Pull: Sync Gateway reads from PeerSync.
	docs := map[string]*Document{}
	for i := range 3 {
		id := fmt.Sprintf("%sfrom-peersync-%d", pre, i)
		docs[id] = p.put(t, id, fmt.Sprintf(`{"i":%d,"from":"peersync"}`, i))
	}
	gone := p.put(t, pre+"deleted", `{"x":1}`)
	if _, err := p.coll().Delete(pre+"deleted", gone.RevID); err != nil {
		t.Fatal(err)
	}
	blobData := bytes.Repeat([]byte("blob for ISGR "), 100)
	ref, err := p.coll().SaveBlob(blobData, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	refJSON, _ := json.Marshal(map[string]any{"@type": "blob", "digest": ref.Digest, "length": ref.Length, "content_type": ref.ContentType})
	docs[pre+"with-blob"] = p.put(t, pre+"with-blob", `{"from":"peersync","photo":`+string(refJSON)+`}`)
	id := sg.startISGR(t, remote, "pull", false)
	sg.waitISGRStopped(t, id)
	for opened := false; !opened; {
		if o, ok := (<-events.C).(ConnectionOpened); ok {
			opened = true
			t.Logf("Sync Gateway's replicator connected with %s", o.Protocol)
			if sg.protocol == ProtocolV4 && o.Protocol != SubprotocolV4 {
				t.Errorf("Sync Gateway's replicator spoke %s, want %s (Sync Gateway 4.x offers it first)", o.Protocol, SubprotocolV4)
			}
		}
	}
	if st, got := sg.do(t, false, "GET", "/"+url.PathEscape(pre+"with-blob")+"/"+url.PathEscape("blob_/photo"), nil); st != http.StatusOK || !bytes.Equal(got, blobData) {
		t.Fatalf("ISGR pull: blob as attachment on Sync Gateway: %d, %d bytes", st, len(got))
	}
	for did, d := range docs {
		got, ok := sg.get(t, did)
		if !ok || !got.named().is(d) || got["from"] != "peersync" {
			t.Fatalf("ISGR pull: Sync Gateway has %v for %s, want %s", got, did, d.RevID)
		}
	}

	// Push: Sync Gateway writes to PeerSync.
	sgRevs := map[string]sgRev{}
	for i := range 3 {
		did := fmt.Sprintf("%sfrom-sg-%d", pre, i)
		sgRevs[did] = sg.put(t, did, "", map[string]any{"i": i, "from": "sync gateway"})
	}
	attDoc := pre + "from-sg-att"
	attRev := sg.put(t, attDoc, "", map[string]any{"from": "sync gateway"})
	attData := []byte("an attachment pushed by Sync Gateway's replicator")
	req, _ := http.NewRequest("PUT", sg.publicURL+"/"+url.PathEscape(attDoc)+"/a.txt?rev="+url.QueryEscape(attRev.rev), bytes.NewReader(attData))
	req.SetBasicAuth(sg.user, sg.pass)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id = sg.startISGR(t, remote, "push", false)
	sg.waitISGRStopped(t, id)
	if got, err := p.coll().GetBlob(BlobDigestOf(attData)); err != nil || !bytes.Equal(got, attData) {
		t.Fatalf("ISGR push: attachment not in PeerSync: %v", err)
	}
	for did, rev := range sgRevs {
		got, err := p.coll().Get(did)
		if err != nil || !rev.is(got) {
			t.Fatalf("ISGR push: PeerSync has %+v %v for %s, want %v", got, err, did, rev)
		}
	}

	// Continuous pushAndPull: changes on either side flow while it runs.
	id = sg.startISGR(t, remote, "pushAndPull", true)
	waitFor(t, "the continuous replication to run", func() bool { return sg.isgrStatus(t, id).Status == "running" })
	d := p.put(t, pre+"live-up", `{"live":"up"}`)
	waitFor(t, "a PeerSync change on Sync Gateway", func() bool {
		got, ok := sg.get(t, pre+"live-up")
		return ok && got.named().is(d)
	})
	rev := sg.put(t, pre+"live-down", "", map[string]any{"live": "down"})
	waitFor(t, "a Sync Gateway change in PeerSync", func() bool {
		got, err := p.coll().Get(pre + "live-down")
		return err == nil && rev.is(got)
	})
	if s := sg.isgrStatus(t, id); s.ErrorMessage != "" {
		t.Fatalf("continuous ISGR: %+v", s)
	}
	st, out := sg.do(t, true, "PUT", "/_replicationStatus/"+id+"?action=stop", nil)
	if st != http.StatusOK {
		t.Fatalf("stop replication: %d %s", st, out)
	}
	sg.waitISGRStopped(t, id)
}

// fakeSyncGateway is a passive peer that answers the way Sync Gateway does
// where that differs from a Couchbase Lite peer: its changes and
// proposeChanges replies carry no blobs:"true", and it reads proposeChanges
// rows strictly (the parent revision must be a string). It records what it
// is sent, so tests that need no Sync Gateway can check our messages.
type fakeSyncGateway struct {
	mu       sync.Mutex
	proposed [][]any                    // proposeChanges rows
	revs     map[string]map[string]any  // docID → rev body
	revProps map[string]blip.Properties // docID → rev properties
	srv      *httptest.Server
}

func startFakeSyncGateway(t *testing.T) *fakeSyncGateway {
	f := &fakeSyncGateway{revs: map[string]map[string]any{}, revProps: map[string]blip.Properties{}}
	var conns []*blip.Conn
	var connsMu sync.Mutex
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/_blipsync") {
			w.Write([]byte(`{"db_name":"db"}`))
			return
		}
		c, err := blip.Accept(w, r, blip.Options{})
		if err != nil {
			return
		}
		c.Handle("getCheckpoint", func(q *blip.Request) { q.RespondError("HTTP", 404, "missing") })
		c.Handle("setCheckpoint", func(q *blip.Request) { q.Respond(blip.Properties{"rev": "0-1"}, nil) })
		c.Handle("proposeChanges", func(q *blip.Request) {
			var rows [][]any
			json.Unmarshal(q.Body, &rows)
			f.mu.Lock()
			f.proposed = append(f.proposed, rows...)
			f.mu.Unlock()
			for _, row := range rows {
				if len(row) > 2 {
					if _, ok := row[2].(string); !ok {
						q.RespondError("HTTP", 500, "parent revision is not a string")
						return
					}
				}
			}
			q.Respond(nil, []byte("[]"))
		})
		c.Handle("rev", func(q *blip.Request) {
			var body map[string]any
			json.Unmarshal(q.Body, &body)
			f.mu.Lock()
			f.revs[q.Properties["id"]] = body
			f.revProps[q.Properties["id"]] = q.Properties
			f.mu.Unlock()
			q.Respond(nil, nil)
		})
		connsMu.Lock()
		conns = append(conns, c)
		connsMu.Unlock()
		c.Start()
		<-c.Done()
	}))
	t.Cleanup(func() {
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		f.srv.Close()
	})
	return f
}

func (f *fakeSyncGateway) url() string { return strings.Replace(f.srv.URL, "http", "ws", 1) + "/db" }

// TestPushToSyncGatewayStyleReceiver checks what Sync Gateway needs from a
// pusher, without a Sync Gateway, in both protocols: a new document's
// proposeChanges row names its parent as "" (Sync Gateway fails on null);
// the rev carries the
// revision ID or the current version; and a blob gets a stand-in
// "_attachments" entry (Sync Gateway only fetches attachments listed
// there), as Couchbase Lite sends them to a peer without blobs:"true".
func TestPushToSyncGatewayStyleReceiver(t *testing.T) {
	for _, protocol := range []Protocol{ProtocolV3, ProtocolV4} {
		t.Run(string(protocol), func(t *testing.T) { pushToSyncGatewayStyleReceiver(t, protocol) })
	}
}

func pushToSyncGatewayStyleReceiver(t *testing.T, protocol Protocol) {
	f := startFakeSyncGateway(t)
	p := newPeer(t, "p")
	data := []byte("blob bytes for the stand-in test")
	ref, err := p.coll().SaveBlob(data, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	refJSON, _ := json.Marshal(map[string]any{"@type": "blob", "digest": ref.Digest, "length": ref.Length, "content_type": "text/plain"})
	d := p.put(t, "withblob", `{"title":"t","photo":`+string(refJSON)+`}`)
	p.put(t, "plain", `{"title":"no blobs"}`)

	st := p.replicateWith(t, ReplicatorConfig{Target: f.url(), Type: Push, Protocol: protocol})
	if st.Pushed != 2 {
		t.Fatalf("pushed %d, want 2 (error %v)", st.Pushed, st.Error)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, row := range f.proposed {
		if len(row) < 3 || row[2] != "" {
			t.Errorf("proposeChanges row for a new document %v: want parent \"\"", row)
		}
	}
	body := f.revs["withblob"]
	atts, _ := body["_attachments"].(map[string]any)
	stub, _ := atts["blob_/photo"].(map[string]any)
	if stub == nil || stub["digest"] != ref.Digest || stub["stub"] != true || stub["revpos"] != float64(1) ||
		stub["length"] != float64(len(data)) || stub["content_type"] != "text/plain" || stub["@type"] != nil {
		t.Fatalf("rev body %v: want _attachments[blob_/photo] standing in for the blob", body)
	}
	if photo, _ := body["photo"].(map[string]any); photo["@type"] != "blob" || photo["digest"] != ref.Digest {
		t.Fatalf("the blob itself changed: %v", body["photo"])
	}
	if _, has := f.revs["plain"]["_attachments"]; has {
		t.Errorf("a document without blobs got _attachments: %v", f.revs["plain"])
	}
	want := d.RevID
	if protocol == ProtocolV4 {
		want = d.Vector.Current.String()
	}
	if f.revProps["withblob"]["rev"] != want {
		t.Errorf("rev property %q, want %q", f.revProps["withblob"]["rev"], want)
	}
}

// TestListenerChangesAcceptedBySyncGatewayPuller subscribes to a PeerSync
// listener the way Sync Gateway's replicator does and checks that the
// changes it is sent carry ignoreNoConflicts:"true", without which Sync
// Gateway answers 409 "Use 'proposeChanges' instead".
func TestListenerChangesAcceptedBySyncGatewayPuller(t *testing.T) {
	p := newPeer(t, "notes")
	p.put(t, "d", `{"a":1}`)
	_, u := p.listen(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := blip.Dial(ctx, blipURL(t, u)+"?client=sgr2", blip.DialOptions{Subprotocols: []string{blip.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := make(chan blip.Properties, 8)
	conn.Handle("changes", func(q *blip.Request) {
		got <- q.Properties
		q.Respond(nil, []byte("[]"))
	})
	conn.Start()
	if _, err := conn.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "subChanges", "since": "0", "batch": "200"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the batch with "d", then the empty caught-up one
		select {
		case props := <-got:
			if props["ignoreNoConflicts"] != "true" {
				t.Fatalf("changes properties %v: want ignoreNoConflicts=true", props)
			}
		case <-ctx.Done():
			t.Fatal("no changes message")
		}
	}
}

// hasCollection asks Sync Gateway for one collection's checkpoint, as
// Couchbase Lite's replicator does, and reports whether it has it.
func (sg *syncGateway) hasCollection(t *testing.T, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	header := http.Header{}
	header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(sg.user+":"+sg.pass)))
	conn, err := blip.Dial(ctx, sg.blipURL+"/_blipsync", blip.DialOptions{Header: header, TLSConfig: sgTLSConfig()})
	if err != nil {
		t.Fatalf("dial Sync Gateway: %v", err)
	}
	defer conn.Close()
	conn.Start()
	body, _ := json.Marshal(map[string]any{"collections": []string{name}, "checkpoint_ids": []string{"cp-interop"}})
	resp, err := conn.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "getCollections"}, Body: body})
	if err != nil {
		t.Fatalf("getCollections %q: %v", name, err)
	}
	var cps []json.RawMessage
	if err := json.Unmarshal(resp.Body, &cps); err != nil || len(cps) != 1 {
		t.Fatalf("getCollections %q: reply %s", name, resp.Body)
	}
	return string(cps[0]) != "null"
}

// sgTLSConfig trusts a test Sync Gateway's certificate when told to.
func sgTLSConfig() *tls.Config {
	if os.Getenv("PEERSYNC_INTEROP_SG_TLS_SKIP_VERIFY") == "1" {
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	}
	return nil
}

// TestInteropSGCollectionNames (issue 15, point 1): Sync Gateway reads a
// collection's name in both spellings (Couchbase Lite's, without the
// default scope, and scope.name), and a named collection replicates both
// ways. The named collection comes from PEERSYNC_INTEROP_SG_COLLECTION
// ("foo" for _default.foo, or "scope.name"), which needs Sync Gateway in
// persistent-config mode with that collection in the database; without it
// only the default collection's spellings are checked.
func TestInteropSGCollectionNames(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	named := os.Getenv("PEERSYNC_INTEROP_SG_COLLECTION")
	short, full := "_default", DefaultCollection
	if named != "" {
		short, full = named, named
		if !strings.Contains(named, ".") {
			full = "_default." + named
		}
	}
	for _, name := range []string{short, full} {
		if !sg.hasCollection(t, name) {
			t.Errorf("Sync Gateway answered null for collection %q", name)
		}
	}
	if named == "" {
		t.Log("interop: set PEERSYNC_INTEROP_SG_COLLECTION to replicate a named collection as well")
		return
	}
	pre := uniquePrefix("coll")
	a, b := newPeer(t, "a"), newPeer(t, "b")
	for _, p := range []*peer{a, b} {
		if _, err := p.db.CreateCollection(full); err != nil {
			t.Fatal(err)
		}
	}
	ca, _ := a.db.Collection(full)
	data := bytes.Repeat([]byte("named collection blob "), 100)
	ref, err := ca.SaveBlob(data, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	refJSON, _ := json.Marshal(map[string]any{"@type": "blob", "digest": ref.Digest, "length": ref.Length, "content_type": ref.ContentType})
	d, err := ca.Save(pre+"doc", []byte(`{"in":"named","photo":`+string(refJSON)+`}`), SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mine := func(_, id, _ string, _ bool, _ []byte) bool { return strings.HasPrefix(id, pre) }
	if st := a.replicateWith(t, ReplicatorConfig{Target: sg.blipURL, Protocol: sg.protocol, Type: Push, Authenticator: sg.auth(),
		Collections: []string{full}, PushFilter: mine}); st.Pushed != 1 {
		t.Fatalf("push of the named collection sent %d documents, want 1 (error %v)", st.Pushed, st.Error)
	}
	if st := b.replicateWith(t, ReplicatorConfig{Target: sg.blipURL, Protocol: sg.protocol, Type: Pull, Authenticator: sg.auth(),
		Collections: []string{full}, PullFilter: mine}); st.Pulled != 1 {
		t.Fatalf("pull of the named collection received %d documents, want 1 (error %v)", st.Pulled, st.Error)
	}
	cb, _ := b.db.Collection(full)
	if got, err := cb.Get(pre + "doc"); err != nil || !sameRevision(got, d) {
		t.Fatalf("the document in %s after the round trip: %v %v", full, got, err)
	}
	if blob, err := cb.GetBlob(ref.Digest); err != nil || !bytes.Equal(blob, data) {
		t.Fatalf("the blob in %s after the round trip: %v", full, err)
	}
}

// TestInteropSGContinuousPullIdle (issue 15, point 6): a continuous pull
// and a continuous pushAndPull from Sync Gateway report idle once caught
// up, and again after pulling a later change.
func TestInteropSGContinuousPullIdle(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	for _, typ := range []ReplicatorType{Pull, PushAndPull} {
		t.Run(typ.String(), func(t *testing.T) {
			pre := uniquePrefix("idle")
			p := newPeer(t, "p")
			mine := func(_, id, _ string, _ bool, _ []byte) bool { return strings.HasPrefix(id, pre) }
			r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: sg.blipURL, Protocol: sg.protocol, Type: typ, Continuous: true,
				Authenticator: sg.auth(), PushFilter: mine, PullFilter: mine})
			if err != nil {
				t.Fatal(err)
			}
			r.Start(false)
			defer r.Stop()
			waitFor(t, "idle once caught up", func() bool { return r.Status().Activity == Idle })
			rev := sg.put(t, pre+"later", "", map[string]any{"made": "later"})
			waitFor(t, "idle after pulling a later change", func() bool {
				d, err := p.coll().Get(pre + "later")
				return err == nil && rev.is(d) && r.Status().Activity == Idle && r.Status().Pulled == 1
			})
		})
	}
}

// TestInteropSGStarChannelPull (issue 22): documents in Sync Gateway's "*"
// channel, which it lists twice in its changes feed; a one-shot pull into
// an empty database finishes and counts each document once.
func TestInteropSGStarChannelPull(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	const n = 1000
	pre := uniquePrefix("star")
	docs := make([]map[string]any, n)
	for i := range docs {
		docs[i] = map[string]any{"_id": fmt.Sprintf("%s%04d", pre, i), "channels": []string{"*"}, "n": i}
	}
	if st, out := sg.do(t, false, "POST", "/_bulk_docs", map[string]any{"docs": docs}); st != http.StatusCreated {
		t.Fatalf("_bulk_docs: %d %s", st, out)
	}
	p := newPeer(t, "p")
	mine := func(_, id, _ string, _ bool, _ []byte) bool { return strings.HasPrefix(id, pre) }
	r, err := p.e.NewReplicator(ReplicatorConfig{Database: p.db, Target: sg.blipURL, Protocol: sg.protocol, Type: Pull,
		Authenticator: sg.auth(), PullFilter: mine})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(false)
	defer r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("one-shot pull of %d documents in \"*\": %v (status %+v)", n, err, r.Status())
	}
	if st := r.Status(); st.Pulled != n {
		t.Errorf("pulled %d documents, want %d", st.Pulled, n)
	}
	if c, _ := p.coll().Count(); c != n {
		t.Errorf("%d documents saved, want %d", c, n)
	}
}

// TestInteropSGTenThousandDocuments pushes 10,000 documents to Sync
// Gateway and pulls them into a second database: every one arrives, at
// the same revision, and a second pull transfers nothing.
func TestInteropSGTenThousandDocuments(t *testing.T) {
	sg := syncGatewayFromEnv(t)
	if testing.Short() {
		t.Skip("-short")
	}
	const n = 10_000
	pre := uniquePrefix("bulk")
	a := newPeer(t, "a")
	ids := make([]string, n)
	err := a.db.Batch(func(b *Batch) error {
		for i := range ids {
			ids[i] = fmt.Sprintf("%s%05d", pre, i)
			if _, err := b.Save(a.coll(), ids[i], []byte(fmt.Sprintf(`{"n":%d,"text":"bulk document %d"}`, i, i)), SaveOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := a.replicateWith(t, ReplicatorConfig{Target: sg.blipURL, Protocol: sg.protocol, Type: Push, Authenticator: sg.auth(), DocumentIDs: ids})
	if st.Pushed != n {
		t.Fatalf("pushed %d documents, want %d (error %v)", st.Pushed, n, st.Error)
	}
	sg.checkProtocol(t, st)
	b := newPeer(t, "b")
	pull := ReplicatorConfig{Target: sg.blipURL, Protocol: sg.protocol, Type: Pull, Authenticator: sg.auth(), DocumentIDs: ids}
	if st := b.replicateWith(t, pull); st.Pulled != n {
		t.Fatalf("pulled %d documents, want %d (error %v)", st.Pulled, n, st.Error)
	}
	for _, id := range ids {
		x, _ := a.coll().Get(id)
		y, err := b.coll().Get(id)
		if err != nil || !sameRevision(x, y) || !jsonEqual(x.Body, y.Body) {
			t.Fatalf("%s after the round trip: %v %v", id, y, err)
		}
	}
	if st := b.replicateWith(t, pull); st.Pulled != 0 {
		t.Errorf("a second pull received %d documents, want 0", st.Pulled)
	}
}

// TestListenerSendsRevTreeToSyncGatewayOverV4: Sync Gateway's replicator,
// pulling over CBMobile_4, builds its revision tree from the rev message's
// revTree property and fails without it (a nil dereference in 4.2); other
// CBMobile_4 pullers get none.
func TestListenerSendsRevTreeToSyncGatewayOverV4(t *testing.T) {
	p := newPeer(t, "notes")
	first := p.put(t, "d", `{"a":1}`)
	d := p.put(t, "d", `{"a":2}`)
	_, u := p.listen(t, nil)
	for _, sgr2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("sgr2=%v", sgr2), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			target := blipURL(t, u)
			if sgr2 {
				target += "?client=sgr2"
			}
			conn, err := blip.Dial(ctx, target, blip.DialOptions{Subprotocols: []string{blip.SubprotocolV4}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			revs := make(chan blip.Properties, 1)
			conn.Handle("changes", func(q *blip.Request) {
				var rows [][]any
				json.Unmarshal(q.Body, &rows)
				want := make([]any, len(rows))
				for i := range want {
					want[i] = []any{}
				}
				body, _ := json.Marshal(want)
				q.Respond(nil, body)
			})
			conn.Handle("rev", func(q *blip.Request) {
				revs <- q.Properties
				q.Respond(nil, nil)
			})
			conn.Start()
			if _, err := conn.Send(ctx, &blip.Message{Properties: blip.Properties{"Profile": "subChanges", "since": "0",
				"batch": "200", "versioning": "version-vectors"}}); err != nil {
				t.Fatal(err)
			}
			select {
			case props := <-revs:
				if props["rev"] != d.Vector.Current.String() {
					t.Errorf("rev %q, want the current version %s", props["rev"], d.Vector.Current)
				}
				want := ""
				if sgr2 {
					want = d.RevID + "," + first.RevID
				}
				if props["revTree"] != want {
					t.Errorf("revTree %q, want %q", props["revTree"], want)
				}
			case <-ctx.Done():
				t.Fatal("no rev message")
			}
		})
	}
}
