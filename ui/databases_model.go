package ui

import (
	"errors"
	"strconv"

	"peersync/service"
	"peersync/syncengine"
)

// formatSize prints a byte count as the CLI does: 512 B, 16.0 KiB.
var formatSize = service.FormatBytes

// dbRow is one line of the Databases list.
type dbRow struct {
	Name  string
	Count int
	Size  int64
	Err   error // the database could not be opened or read
}

// damaged reports whether the row's database file is damaged: it can be
// checked, salvaged and deleted, not opened.
func (r dbRow) damaged() bool { return errors.Is(r.Err, syncengine.ErrDamaged) }

// loadDatabases reads every database's name, live document count and file
// size. A database that fails to open still gets a row, with its error.
func loadDatabases(eng Engine) ([]dbRow, error) {
	names, err := eng.DatabaseNames()
	if err != nil {
		return nil, err
	}
	rows := make([]dbRow, 0, len(names))
	for _, name := range names {
		row := dbRow{Name: name}
		db, err := eng.OpenDatabase(name)
		if err == nil {
			info, ierr := db.Info()
			row.Count, row.Size, err = info.DocumentCount, info.Size, ierr
		}
		row.Err = err
		rows = append(rows, row)
	}
	return rows, nil
}

// countText and sizeText are the list's columns.
func (r dbRow) countText() string {
	if r.damaged() {
		return "damaged"
	}
	if r.Err != nil {
		return "unavailable"
	}
	if r.Count == 1 {
		return "1 document"
	}
	return strconv.Itoa(r.Count) + " documents"
}

func (r dbRow) sizeText() string {
	if r.Err != nil {
		return ""
	}
	return formatSize(r.Size)
}

// nameProblem is the text shown under the new-database field: empty while
// the name is fine or the field is blank.
func nameProblem(name string, validate func(string) error) string {
	if name == "" {
		return ""
	}
	if err := validate(name); err != nil {
		return err.Error()
	}
	return ""
}
