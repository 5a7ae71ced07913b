package repl

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestWithLegacyAttachmentsAddsStandIns(t *testing.T) {
	body := []byte(`{"n":12345678901234567890,"photo":{"@type":"blob","digest":"sha1-AAA=","length":3,"content_type":"image/png"},` +
		`"list":[{"@type":"blob","digest":"sha1-BBB=","length":1}],"a/b":{"@type":"blob","digest":"sha1-CCC=","length":2},` +
		`"_attachments":{"old.txt":{"digest":"sha1-DDD=","length":4,"revpos":1,"stub":true},"blob_/gone":{"digest":"sha1-EEE="}}}`)
	out, ok := withLegacyAttachments(body, 3)
	if !ok {
		t.Fatal("no stand-ins added")
	}
	var got map[string]any
	dec := json.NewDecoder(bytesReader(out))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got["n"].(json.Number) != "12345678901234567890" {
		t.Errorf("number changed: %v", got["n"])
	}
	atts := got["_attachments"].(map[string]any)
	want := map[string]map[string]any{
		"blob_/photo":  {"digest": "sha1-AAA=", "length": json.Number("3"), "content_type": "image/png", "stub": true, "revpos": json.Number("3")},
		"blob_/list/0": {"digest": "sha1-BBB=", "length": json.Number("1"), "stub": true, "revpos": json.Number("3")},
		"blob_/a~1b":   {"digest": "sha1-CCC=", "length": json.Number("2"), "stub": true, "revpos": json.Number("3")},
		"old.txt":      {"digest": "sha1-DDD=", "length": json.Number("4"), "revpos": json.Number("1"), "stub": true},
	}
	if len(atts) != len(want) {
		t.Fatalf("_attachments = %v", atts)
	}
	for name, w := range want {
		if !reflect.DeepEqual(atts[name], any(w)) {
			t.Errorf("%s = %v, want %v", name, atts[name], w)
		}
	}
	if _, ok := withLegacyAttachments([]byte(`{"a":"blob"}`), 1); ok {
		t.Error("a body without blobs got stand-ins")
	}
}

func TestStripLegacyAttachmentsRoundTrip(t *testing.T) {
	orig := `{"photo":{"@type":"blob","digest":"sha1-AAA=","length":3},"_attachments":{"real.txt":{"digest":"sha1-R=","stub":true}}}`
	sent, _ := withLegacyAttachments([]byte(orig), 2)
	root, err := decodeObject(sent)
	if err != nil {
		t.Fatal(err)
	}
	stripLegacyAttachments(root)
	want, _ := decodeObject([]byte(orig))
	if !reflect.DeepEqual(root, want) {
		t.Errorf("after strip: %s, want %s", encodeJSON(root), orig)
	}

	// Only stand-ins go; a stand-in for nothing stays, as does a changed digest's update.
	root, _ = decodeObject([]byte(`{"p":{"@type":"blob","digest":"sha1-OLD=","length":1},` +
		`"_attachments":{"blob_/p":{"digest":"sha1-NEW=","length":9,"stub":true},"blob_0":{"digest":"x"},"blob_/missing":{"digest":"y"}}}`))
	stripLegacyAttachments(root)
	got := string(encodeJSON(root))
	wantJSON := `{"_attachments":{"blob_/missing":{"digest":"y"}},"p":{"@type":"blob","digest":"sha1-NEW=","length":9}}`
	if got != wantJSON {
		t.Errorf("got %s\nwant %s", got, wantJSON)
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// A revision from Sync Gateway carries stand-ins for the blobs we pushed;
// they are dropped on receipt, as Couchbase Lite does, and real
// attachments are kept.
func TestReceivedStandInsAreDropped(t *testing.T) {
	in := `{"_id":"d","_rev":"2-x","photo":{"@type":"blob","digest":"sha1-AAA=","length":3},` +
		`"_attachments":{"blob_/photo":{"digest":"sha1-AAA=","length":3,"revpos":2,"stub":true}}}`
	out, err := stripSpecial([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"photo":{"@type":"blob","digest":"sha1-AAA=","length":3}}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
	in = `{"_attachments":{"note.txt":{"digest":"sha1-R=","length":1,"revpos":1,"stub":true}},"a":1}`
	out, err = stripSpecial([]byte(in))
	if err != nil || string(out) != in {
		t.Errorf("a real attachment: got %s %v, want it unchanged", out, err)
	}
}
