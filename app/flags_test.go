package app

import (
	"testing"

	"peersync/service"
)

func TestNoAnnounceAndNoBrowseFlagsOverrideConfig(t *testing.T) {
	for _, tc := range []struct {
		args             []string
		announce, browse bool
	}{
		{nil, true, true},
		{[]string{"--no-announce"}, false, true},
		{[]string{"--no-browse"}, true, false},
		{[]string{"--no-announce", "--no-browse"}, false, false},
	} {
		g := &globals{}
		root := newRootCommand(g)
		if err := root.ParseFlags(tc.args); err != nil {
			t.Fatal(err)
		}
		cfg := service.DefaultConfig()
		g.overrideDiscovery(cfg)
		if cfg.Discovery.Announce != tc.announce || cfg.Discovery.Browse != tc.browse {
			t.Errorf("%v: announce %v browse %v; want %v %v", tc.args, cfg.Discovery.Announce, cfg.Discovery.Browse, tc.announce, tc.browse)
		}
	}
}
