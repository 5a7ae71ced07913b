package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"peersync/service"
	"peersync/syncengine"
)

// fakeList serves List calls from a sorted slice of IDs.
func fakeList(ids []string) func(syncengine.ListOptions) ([]*syncengine.Document, error) {
	return func(o syncengine.ListOptions) ([]*syncengine.Document, error) {
		var out []*syncengine.Document
		for _, id := range ids {
			if !strings.HasPrefix(id, o.Prefix) || (o.StartAfter != "" && id <= o.StartAfter) {
				continue
			}
			out = append(out, &syncengine.Document{ID: id})
			if o.Limit > 0 && len(out) == o.Limit {
				break
			}
		}
		return out, nil
	}
}

func idsOf(docs []*syncengine.Document) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out
}

func TestPager(t *testing.T) {
	var ids []string
	for i := range 7 {
		ids = append(ids, fmt.Sprintf("d%d", i))
	}
	p := newPager(3)
	docs, _ := p.fetch(fakeList(ids))
	if got := idsOf(docs); !reflect.DeepEqual(got, []string{"d0", "d1", "d2"}) || !p.hasNext || p.label(3, 7) != "Documents 1–3 of 7" {
		t.Fatalf("page 1 = %v, next %v", got, p.hasNext)
	}
	p.next()
	docs, _ = p.fetch(fakeList(ids))
	if got := idsOf(docs); !reflect.DeepEqual(got, []string{"d3", "d4", "d5"}) || !p.hasNext {
		t.Fatalf("page 2 = %v, next %v", got, p.hasNext)
	}
	p.next()
	docs, _ = p.fetch(fakeList(ids))
	if got := idsOf(docs); !reflect.DeepEqual(got, []string{"d6"}) || p.hasNext || p.next() {
		t.Fatalf("page 3 = %v, next %v", got, p.hasNext)
	}
	// Page 3 empties elsewhere: the pager steps back to page 2.
	docs, _ = p.fetch(fakeList(ids[:6]))
	if got := idsOf(docs); !reflect.DeepEqual(got, []string{"d3", "d4", "d5"}) || p.page != 1 {
		t.Fatalf("after the last page emptied: page %d = %v", p.page, got)
	}
	p.prev()
	docs, _ = p.fetch(fakeList(ids))
	if got := idsOf(docs); got[0] != "d0" || p.prev() {
		t.Fatalf("back to page 1: %v", got)
	}
	p.setPrefix("zz")
	docs, _ = p.fetch(fakeList(ids))
	if len(docs) != 0 || p.label(0, 7) != "None of 7 starts with “zz”" {
		t.Errorf("no match: %v %q", idsOf(docs), p.label(0, 7))
	}
	p.setPrefix("d")
	docs, _ = p.fetch(fakeList(ids))
	if got := p.label(len(docs), 7); got != "Documents 1–3 starting with “d” (of 7)" {
		t.Errorf("with a prefix: %q", got)
	}
}

func TestCheckBody(t *testing.T) {
	for text, want := range map[string]string{
		`{"a": 1}`:         "",
		"  {\n}\n":         "",
		``:                 "must be a JSON object",
		`"str"`:            "must be a JSON object",
		"{\n\"a\": [1,}\n": "line 2, column 9",
		`{"_rev": "1-a"}`:  `"_rev" is reserved`,
		`{"a": 1} {}`:      "invalid character '{' after top-level value",
	} {
		err := checkBody(text)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", text, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}

func TestRevisionRows(t *testing.T) {
	h := newHarness(t)
	db := h.database("notes")
	first := save(t, db, "a", "", `{"v":1}`)
	second := save(t, db, "a", first, `{"v":2}`)
	d, err := db.DefaultCollection().Get("a")
	if err != nil {
		t.Fatal(err)
	}
	want := []revRow{
		{ID: second, Parent: first, Leaf: true, Winner: true, BodyKept: true},
		{ID: first, BodyKept: true},
	}
	if got := revisionRows(d); !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %+v, want %+v", got, want)
	}
	if f := want[0].flags(); f != "winner" {
		t.Errorf("flags %q", f)
	}
	if f := (revRow{Leaf: true, Deleted: true}).flags(); f != "leaf, deleted, body pruned" {
		t.Errorf("flags %q", f)
	}
}

func TestNameProblem(t *testing.T) {
	if p := nameProblem("", syncengine.ValidateDatabaseName); p != "" {
		t.Errorf("blank field shows %q", p)
	}
	if p := nameProblem("ok", syncengine.ValidateDatabaseName); p != "" {
		t.Errorf("valid name shows %q", p)
	}
	if p := nameProblem("-x", syncengine.ValidateDatabaseName); !strings.Contains(p, "start with a letter or digit") {
		t.Errorf("-x shows %q", p)
	}
}

func TestAdviceCoversEngineErrors(t *testing.T) {
	generic := advice(fmt.Errorf("something else"))
	for _, err := range []error{syncengine.ErrConflict, syncengine.ErrInvalidDatabaseName, syncengine.ErrDatabaseExists,
		syncengine.ErrNotFound, syncengine.ErrInvalidBody, syncengine.ErrBodyTooLarge, syncengine.ErrInvalidDocID,
		syncengine.ErrMissingBlob, syncengine.ErrInUse, syncengine.ErrClosed} {
		if a := advice(fmt.Errorf("wrapped: %w", err)); a == generic || a == "" {
			t.Errorf("%v gets the generic advice", err)
		}
	}
}

// Advice is for errors of its kind only: a validation message gets none,
// a full disk gets the disk advice.
func TestAdviceOnlyForItsKind(t *testing.T) {
	for _, err := range []error{
		errors.New(`replication[0].database: invalid database name: empty`),
		&service.ConfigError{Key: "listener[0].port", Msg: "a port 0–65535"},
		&NotStartedError{Reason: "listen tcp 127.0.0.1:4984: bind: address already in use"},
	} {
		if a := advice(err); a != "" {
			t.Errorf("%v gets advice %q", err, a)
		}
	}
	full := &fs.PathError{Op: "write", Path: "notes.db", Err: syscall.ENOSPC}
	if a := advice(fmt.Errorf("saving: %w", full)); !strings.Contains(a, "disk space") {
		t.Errorf("a full disk gets %q", a)
	}
}
