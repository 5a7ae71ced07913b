package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"peersync/service"
	"peersync/syncengine"
)

// globals are the flags every command shares.
type globals struct {
	dataDir   string
	config    string
	headless  bool
	logFormat string
	logLevel  string
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	set       func(name string) bool

	// noAnnounce and noBrowse override the configuration's [discovery].
	noAnnounce, noBrowse bool

	// engine, when set, is a running instance's engine that commands use
	// (and do not close): how the control socket runs forwarded commands.
	engine *syncengine.Engine
	// ctx, when set, ends long-running commands (listen, replicate) when
	// done: a forwarded command's caller went away.
	ctx context.Context

	// serving marks long-running commands (listen, the GUI): like
	// --headless they log at the --log-level default, so refused
	// connections show.
	serving bool
}

// context is what ends the command besides a signal.
func (g *globals) context() context.Context {
	if g.ctx != nil {
		return g.ctx
	}
	return context.Background()
}

// gcPercent is the garbage collector's target unless GOGC says otherwise.
// Replication allocates briskly and keeps little: collecting half as often
// took a fifth off the CPU of a 10,000-document push (both processes) and a
// quarter off its time, for about 5 MB more memory (docs/benchmarks.md).
const gcPercent = 200

// Main runs PeerSync with the given arguments (without the program name)
// and returns the process exit code.
func Main(args []string) int {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	return run(args, os.Stdin, os.Stdout, os.Stderr)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	rec := &recordingReader{r: stdin}
	g := &globals{stdin: rec, stdout: stdout, stderr: stderr}
	err := execute(g, args)
	if errors.Is(err, syncengine.ErrInUse) {
		// A running instance holds the database: let it run the command.
		// What the command read goes along, and the rest of a piped stdin;
		// a terminal's is not waited for.
		var rest io.Reader = stdin
		if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			rest = strings.NewReader("")
		}
		if code, ferr := forward(DataDir(dataDirFlag(args)), args, io.MultiReader(bytes.NewReader(rec.buf.Bytes()), rest), stdout, stderr); ferr == nil {
			return code
		}
	}
	code := exitCode(err)
	if code == 1 {
		fmt.Fprintf(stderr, "peersync: %s\n", service.OneLine(err))
	}
	return code
}

// exitCode is the process exit code for a command's error: 0, 128+signal
// for one a signal interrupted, else 1 (with the error to print).
func exitCode(err error) int {
	var intr interrupted
	switch {
	case err == nil:
		return 0
	case errors.As(err, &intr):
		return intr.exitCode()
	}
	return 1
}

func execute(g *globals, args []string) error {
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	return root.Execute()
}

// recordingReader keeps what a command read from stdin, so the command can
// be forwarded with the same input.
type recordingReader struct {
	r   io.Reader
	buf bytes.Buffer
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf.Write(p[:n])
	return n, err
}

// dataDirFlag finds --data-dir in raw arguments (before cobra parses them).
func dataDirFlag(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--data-dir="); ok {
			return v
		}
		if a == "--data-dir" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "peersync",
		Short: "Peer-to-peer JSON document sync (Couchbase Mobile protocol)",
		Long: `PeerSync keeps JSON document databases in sync between machines.

Run without arguments to open the desktop app, with --headless to run the
configured listeners and replications as a background service, or with a
command below.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			g.set = func(name string) bool {
				f := cmd.Flags().Lookup(name)
				return f != nil && f.Changed
			}
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.headless {
				return runHeadless(cmd.Context(), g)
			}
			return runGUI(g)
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&g.dataDir, "data-dir", "", "data directory (default $PEERSYNC_DATA_DIR, else the per-user data directory)")
	f.StringVar(&g.config, "config", "", "configuration file (default <data-dir>/peersync.toml)")
	f.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error (commands other than --headless log errors only unless set)")
	root.Flags().BoolVar(&g.headless, "headless", false, "run without a window: start the configured listeners and replications")
	root.Flags().BoolVar(&g.noAnnounce, "no-announce", false, "with --headless: announce no listener on the local network, whatever the configuration says")
	root.Flags().BoolVar(&g.noBrowse, "no-browse", false, "with --headless: do not look for peers on the local network, whatever the configuration says")
	root.AddCommand(newDBCommand(g), newDocCommand(g), newImportCommand(g), newExportCommand(g),
		newListenCommand(g), newReplicateCommand(g), newStatusCommand(g), newUserCommand(g), newIdentityCommand(g),
		newCollectionCommand(g), newBlobCommand(g), newResolveCommand(g), newPeersCommand(g), newDoctorCommand(g))
	return root
}

func (g *globals) logger() (*slog.Logger, error) {
	var level slog.Level
	if !g.headless && !g.serving && g.engine == nil && !g.flagSet("log-level") {
		// One-shot commands report their outcome themselves; only errors
		// beyond that are worth a log line.
		g.logLevel = "error"
	}
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(g.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(g.stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", g.logFormat)
}

// flagSet reports whether a global flag was given on the command line.
func (g *globals) flagSet(name string) bool { return g.set != nil && g.set(name) }

// openEngine opens the engine on the data directory; close it when done.
func (g *globals) openEngine() (*syncengine.Engine, error) {
	log, err := g.logger()
	if err != nil {
		return nil, err
	}
	return syncengine.New(syncengine.Options{DataDir: DataDir(g.dataDir), Logger: log})
}

// withEngine runs fn with an open engine and closes it afterwards.
func (g *globals) withEngine(fn func(*syncengine.Engine) error) error {
	if g.engine != nil {
		return fn(g.engine)
	}
	e, err := g.openEngine()
	if err != nil {
		return err
	}
	return errors.Join(fn(e), e.Close())
}

// withDatabase runs fn with an open database.
func (g *globals) withDatabase(name string, fn func(*syncengine.Database) error) error {
	if name == "" {
		return errors.New("no database given (use --db NAME)")
	}
	return g.withEngine(func(e *syncengine.Engine) error {
		db, err := e.OpenDatabase(name)
		if err != nil {
			return err
		}
		return fn(db)
	})
}
