package syncengine

import (
	"testing"
)

// Two peers edit one document differently; the replication resolves the
// conflict and records it with the losing body; restoring it is a new edit
// that the next replication brings to both peers. Over both protocols.
func TestResolutionRecordedRestoredAndReplicated(t *testing.T) {
	for _, proto := range []Protocol{ProtocolV4, ProtocolV3} {
		t.Run(string(proto), func(t *testing.T) {
			a, b := newPeer(t, "a"), newPeer(t, "b")
			_, url := b.listen(t, nil)
			a.put(t, "n1", `{"v":0}`)
			a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull, Protocol: proto})
			a.put(t, "n1", `{"side":"a"}`)
			b.put(t, "n1", `{"side":"b"}`) // the newer edit
			sub := a.e.Subscribe(0)
			defer sub.Close()
			a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull, Protocol: proto})
			ev := waitEvent(t, sub, func(ev Event) bool { _, ok := ev.(ConflictResolved); return ok }).(ConflictResolved)
			if ev.Database != "a" || ev.Resolution.DocID != "n1" || ev.Resolution.Rule == "" {
				t.Fatalf("event %+v", ev)
			}
			rs, err := a.db.Resolutions(0)
			if err != nil || len(rs) != 1 {
				t.Fatalf("a recorded %+v, %v", rs, err)
			}
			if rs[0].LoserBody != nil {
				t.Errorf("a list carries bodies")
			}
			r, err := a.db.Resolution(rs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			won, _ := a.coll().Get("n1")
			lost := `{"side":"a"}`
			if jsonEqual(won.Body, []byte(lost)) {
				lost = `{"side":"b"}`
			}
			if proto == ProtocolV4 && (r.Rule != RuleNewerEditWins || lost != `{"side":"a"}`) {
				t.Errorf("over CBMobile_4 the newer edit should win: rule %q, kept %s", r.Rule, won.Body)
			}
			if !jsonEqual(r.LoserBody, []byte(lost)) || r.Winner != won.RevID || r.ID != ev.Resolution.ID {
				t.Fatalf("recorded %+v (body %s), want the loser %s; document at %s", r, r.LoserBody, lost, won.RevID)
			}
			if rs, _ := b.db.Resolutions(0); len(rs) != 0 {
				t.Errorf("the listener's side recorded %+v", rs)
			}

			if _, err := a.db.RestoreResolution(r.ID); err != nil {
				t.Fatal(err)
			}
			a.replicate(t, ReplicatorConfig{Target: url, Type: PushAndPull, Protocol: proto})
			for _, p := range []*peer{a, b} {
				d, err := p.coll().Get("n1")
				if err != nil || !jsonEqual(d.Body, []byte(lost)) || d.Conflicted {
					t.Fatalf("after the restore %s holds %+v, %v; want %s", p.db.Name(), d, err, lost)
				}
			}
			sameDocs(t, a, b)
			if rs, _ := a.db.Resolutions(0); len(rs) != 0 {
				t.Errorf("after the restore a lists %+v", rs)
			}
		})
	}
}
