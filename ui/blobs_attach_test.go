package ui

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"peersync/syncengine"
)

// Attaching a file stores it as a blob and adds a reference named after the
// file to the edit, which the saved document keeps; the same name twice
// gets two keys.
func TestEditorAttachesAFileAsABlob(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	b := h.openBrowser("notes")
	b.newDocument()
	e := b.editor
	e.idEntry.SetText("p1")
	e.body.SetText("{\n  \"title\": \"holiday\"\n}")
	photo := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 1000)
	path := filepath.Join(t.TempDir(), "photo.png")
	if err := os.WriteFile(path, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	if e.attachBtn.Disabled() {
		t.Fatal("Attach is disabled on a valid new document")
	}
	e.attachFrom("photo.png", open)
	h.settle()
	e.attachFrom("photo.png", open)
	h.settle()
	if err := checkBody(e.body.Text); err != nil || !strings.HasPrefix(e.body.Text, "{\n  \"title\": \"holiday\",\n  \"photo.png\": {") {
		t.Fatalf("after attaching, the body is %q (%v)", e.body.Text, err)
	}
	h.u.save()
	h.settle()

	d, err := db.DefaultCollection().Get("p1")
	if err != nil {
		t.Fatal(err)
	}
	refs := syncengine.BlobRefs(d.Body)
	if len(refs) != 2 || !strings.Contains(string(d.Body), `"photo.png 2"`) {
		t.Fatalf("the saved body %s refers to %d blobs; want 2, under photo.png and photo.png 2", d.Body, len(refs))
	}
	for _, r := range refs {
		if r.ContentType != "image/png" || r.Length != int64(len(photo)) {
			t.Errorf("blob reference %+v", r)
		}
		got, err := db.DefaultCollection().GetBlob(r.Digest)
		if err != nil || !bytes.Equal(got, photo) {
			t.Errorf("blob %s: %d bytes (%v); want the file's %d", r.Digest, len(got), err, len(photo))
		}
	}
}

// A body that is not a JSON object yet, or a file over the limit, is
// refused in one line, and the edit stays as it was.
func TestEditorRefusesAnAttachmentItCannotAdd(t *testing.T) {
	h := newHarness(t)
	h.database("notes")
	b := h.openBrowser("notes")
	b.newDocument()
	e := b.editor
	e.body.SetText(`{"title": `)
	if !e.attachBtn.Disabled() {
		t.Error("Attach is enabled while the body does not parse")
	}
	opened := false
	e.attachFrom("a.txt", func() (io.ReadCloser, error) { opened = true; return io.NopCloser(strings.NewReader("hi")), nil })
	h.settle()
	if opened || e.body.Text != `{"title": ` || !hasText(h.topDialog(), "the body must be valid before a blob can be added to it") {
		t.Errorf("attaching to a broken body: file read %v, body %q, dialog %q", opened, e.body.Text, texts(h.topDialog()))
	}

	e.body.SetText(`{}`)
	big := io.NopCloser(io.LimitReader(zeros{}, attachLimit+1))
	e.attachFrom("huge.bin", func() (io.ReadCloser, error) { return big, nil })
	h.settle()
	if e.body.Text != `{}` || !hasText(h.topDialog(), "the file is larger than 20 MB") {
		t.Errorf("attaching a file over the limit: body %q, dialog %q", e.body.Text, texts(h.topDialog()))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestAddBlobPropertyKeepsTheText(t *testing.T) {
	ref := syncengine.BlobRef{Digest: "sha1-x", Length: 3, ContentType: "text/plain"}
	for _, c := range []struct{ in, name, want string }{
		{"{\n  \n}", "a.txt", "{\n  \"a.txt\": {\n    \"@type\": \"blob\",\n    \"digest\": \"sha1-x\",\n    \"length\": 3,\n    \"content_type\": \"text/plain\"\n  }\n}"},
		{`{"n":1}` + "\n", "_x", `{"n":1,` + "\n  \"x\": {\n    \"@type\": \"blob\",\n    \"digest\": \"sha1-x\",\n    \"length\": 3,\n    \"content_type\": \"text/plain\"\n  }\n}\n"},
		{`{"blob":{"k":"}"}}`, "", `{"blob":{"k":"}"},` + "\n  \"blob 2\": {\n    \"@type\": \"blob\",\n    \"digest\": \"sha1-x\",\n    \"length\": 3,\n    \"content_type\": \"text/plain\"\n  }\n}"},
	} {
		got, err := addBlobProperty(c.in, c.name, ref)
		if err != nil || got != c.want {
			t.Errorf("addBlobProperty(%q, %q) = %q, %v; want %q", c.in, c.name, got, err, c.want)
		}
		if checkBody(got) != nil {
			t.Errorf("addBlobProperty(%q) gave a body that does not parse: %q", c.in, got)
		}
	}
}
