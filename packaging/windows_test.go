package packaging

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"
)

// Resource types and subsystems from the PE format.
const (
	rtIcon           = 3
	rtGroupIcon      = 14
	rtVersion        = 16
	subsystemGUI     = 2
	subsystemConsole = 3
)

// windowsEnv turns on the Windows tests (cross-build and Wine smoke test).
// They are opt-in because a cold cross-build takes several minutes on a
// small machine; make smoke-windows sets it.
const windowsEnv = "PEERSYNC_WINE_SMOKE"

func requireWindowsOptIn(t *testing.T) {
	t.Helper()
	if os.Getenv(windowsEnv) != "1" {
		t.Skipf("set %s=1 (or run make smoke-windows) to cross-build for Windows and run the builds under Wine", windowsEnv)
	}
}

// windowsBuilds names the two Windows executables of this version in dist/.
func windowsBuilds(version string) (gui, cli string) {
	return filepath.Join("dist", "PeerSync-"+version+"-windows-amd64.exe"),
		filepath.Join("dist", "peersync-headless-"+version+"-windows-amd64.exe")
}

// ensureWindowsBuilds builds (or reuses) both Windows executables and
// returns their absolute paths.
func ensureWindowsBuilds(t *testing.T, root string) (gui, cli string) {
	t.Helper()
	windowsMu.Lock()
	defer windowsMu.Unlock()
	if out, err := runMake(root, "fyne-tool"); err != nil {
		t.Skipf("the fyne packaging tool could not be installed (needs the Go module proxy): %v\n%s", err, out)
	}
	if out, err := runMake(root, "deps-windows"); err != nil {
		t.Skipf("MinGW-w64 could not be installed: %v\n%s", err, out)
	}
	requireTools(t, "the Windows build needs Debian's gcc-mingw-w64-x86-64", "x86_64-w64-mingw32-gcc")
	gui, cli = windowsBuilds(fyneAppVersion(t, root))
	ensureBuilt(t, root, "package-windows", gui, cli)
	return filepath.Join(root, gui), filepath.Join(root, cli)
}

// TestWindowsBuilds checks the Windows executables without running them:
// x86-64, a GUI app with icon and version resources, and a console CLI.
func TestWindowsBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Windows builds are not cross-compiled")
	}
	requireWindowsOptIn(t)
	t.Parallel()
	requireTools(t, "install make", "make")
	root := repoRoot(t)
	version := fyneAppVersion(t, root)
	gui, cli := ensureWindowsBuilds(t, root)

	guiFile := openPE(t, gui)
	defer guiFile.Close()
	checkAMD64(t, gui, guiFile)
	if got := subsystem(guiFile); got != subsystemGUI {
		t.Errorf("%s: subsystem %d, want %d (GUI: no console window)", gui, got, subsystemGUI)
	}
	rsrc := guiFile.Section(".rsrc")
	if rsrc == nil {
		t.Fatalf("%s has no resources: FyneApp.toml's icon and version were not embedded", gui)
	}
	data, err := rsrc.Data()
	if err != nil {
		t.Fatal(err)
	}
	types := resourceTypes(t, data)
	for _, want := range []uint32{rtIcon, rtGroupIcon, rtVersion} {
		if !types[want] {
			t.Errorf("%s: no resource of type %d (have %v)", gui, want, types)
		}
	}
	for _, text := range []string{"PeerSync", version} {
		if !bytes.Contains(data, utf16le(text)) {
			t.Errorf("%s: version resource does not name %q", gui, text)
		}
	}

	cliFile := openPE(t, cli)
	defer cliFile.Close()
	checkAMD64(t, cli, cliFile)
	if got := subsystem(cliFile); got != subsystemConsole {
		t.Errorf("%s: subsystem %d, want %d (console)", cli, got, subsystemConsole)
	}
}

func openPE(t *testing.T, path string) *pe.File {
	t.Helper()
	f, err := pe.Open(path)
	if err != nil {
		t.Fatalf("%s is not a Windows executable: %v", path, err)
	}
	return f
}

func checkAMD64(t *testing.T, path string, f *pe.File) {
	t.Helper()
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("%s: machine %#x, want x86-64", path, f.Machine)
	}
}

func subsystem(f *pe.File) uint16 {
	if h, ok := f.OptionalHeader.(*pe.OptionalHeader64); ok {
		return h.Subsystem
	}
	return 0
}

// resourceTypes lists the type IDs in the root of a .rsrc resource
// directory: a 16-byte header whose last two uint16s count named and ID
// entries, then 8-byte entries whose first uint32 is the type.
func resourceTypes(t *testing.T, rsrc []byte) map[uint32]bool {
	t.Helper()
	if len(rsrc) < 16 {
		t.Fatalf("resource section is %d bytes, too short for a directory", len(rsrc))
	}
	named := int(binary.LittleEndian.Uint16(rsrc[12:]))
	ids := int(binary.LittleEndian.Uint16(rsrc[14:]))
	types := map[uint32]bool{}
	for i := named; i < named+ids; i++ {
		off := 16 + 8*i
		if off+8 > len(rsrc) {
			t.Fatalf("resource directory entry %d lies outside the section", i)
		}
		types[binary.LittleEndian.Uint32(rsrc[off:])] = true
	}
	return types
}

func utf16le(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}
