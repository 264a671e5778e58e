package aws

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipd/vipd/providers/aws/awstest"
)

// TestFailoverBetweenTwoNodes runs two providers (as two vipd nodes would)
// against one awstest.Cloud, discovering everything through their own IMDS
// and signing with the instance role: each failover is exactly one write to
// the new master, and a node that already holds the VIP writes nothing.
func TestFailoverBetweenTwoNodes(t *testing.T) {
	newEnv(t, "role") // isolate the SDK from the host; no static keys
	for _, mode := range []Options{
		{Mode: ModeSecondaryIP},
		{Mode: ModeRouteTable, RouteTableIDs: []string{"rtb-1", "rtb-2"}},
		{Mode: ModeEIP, AllocationID: "eipalloc-1"},
	} {
		t.Run(string(mode.Mode), func(t *testing.T) {
			c, err := awstest.NewCloud("", []string{"", ""}, []string{"10.0.0.10", "10.0.0.11"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			var nodes []*Provider
			for _, n := range c.Nodes {
				opts := mode
				opts.Endpoint, opts.MetadataEndpoint = c.EC2.URL(), n.IMDS.URL()
				p, err := New(ctxT(t), opts, testLogger(t))
				if err != nil {
					t.Fatal(err)
				}
				nodes = append(nodes, p)
			}
			steps := []struct {
				master    int
				wantWrite bool
			}{
				{0, true},  // node 0 becomes master
				{0, false}, // drift repair / repeated Acquire: already here
				{1, true},  // node 0 dies, node 1 takes over
				{1, false},
				{0, true}, // node 0 preempts back
			}
			for i, s := range steps {
				before := c.EC2.TotalWrites()
				if err := nodes[s.master].Acquire(ctxT(t), vip); err != nil {
					t.Fatalf("step %d: Acquire on node %d: %v", i, s.master, err)
				}
				wrote := c.EC2.TotalWrites() - before
				want := 0
				if s.wantWrite {
					want = 1
					if mode.Mode == ModeRouteTable {
						want = 2 // one per table
					}
				}
				if wrote != want {
					t.Errorf("step %d: %d writes, want %d", i, wrote, want)
				}
				var here []bool
				for _, p := range nodes {
					own, err := p.Verify(ctxT(t), vip)
					if err != nil {
						t.Fatalf("step %d: Verify: %v", i, err)
					}
					here = append(here, own.Here)
				}
				if diff := cmp.Diff([]bool{s.master == 0, s.master == 1}, here); diff != "" {
					t.Errorf("step %d: Verify.Here per node (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}
