package awstest

import (
	"errors"
	"fmt"
)

// Region of every Cloud.
const Region = "us-test-1"

// Node is one instance of a Cloud, with its own IMDS.
type Node struct {
	InstanceID string // i-0, i-1, …
	ENIID      string // eni-0, eni-1, …
	MAC        string // 0a:00:00:00:00:00, …:01, …
	PrivateIP  string // the ENI's primary address
	IMDS       *IMDS
}

// Cloud is a fake EC2 region for integration tests: one EC2 endpoint shared
// by N instances, each with its own IMDS that serves an instance role with
// the fake's test credentials (so vipd needs no AWS_* environment). It is
// seeded with route tables rtb-1 and rtb-2 (empty) and Elastic IP
// eipalloc-1 (203.0.113.10, unassociated).
//
// Point node i's provider at Endpoint: c.EC2.URL(), MetadataEndpoint:
// c.Nodes[i].IMDS.URL(); region, instance and ENI are then discovered.
type Cloud struct {
	EC2   *EC2
	Nodes []Node
}

// NewCloud starts the fake EC2 on ec2Addr and one IMDS per entry of
// imdsAddrs (addresses as for NewServer: "" picks a loopback port), giving
// node i the primary private address privateIPs[i].
func NewCloud(ec2Addr string, imdsAddrs, privateIPs []string) (*Cloud, error) {
	if len(imdsAddrs) != len(privateIPs) {
		return nil, errors.New("awstest: one IMDS address per private IP")
	}
	s, err := NewServer(ec2Addr)
	if err != nil {
		return nil, err
	}
	c := &Cloud{EC2: s}
	for i, addr := range imdsAddrs {
		n := Node{
			InstanceID: fmt.Sprintf("i-%d", i),
			ENIID:      fmt.Sprintf("eni-%d", i),
			MAC:        fmt.Sprintf("0a:00:00:00:00:%02x", i),
			PrivateIP:  privateIPs[i],
		}
		n.IMDS, err = NewIMDS(addr, Instance{
			InstanceID: n.InstanceID, Region: Region, PrivateIP: n.PrivateIP, MAC: n.MAC,
			ENIs: map[string]string{n.MAC: n.ENIID}, Role: "vipd",
		})
		if err != nil {
			c.Close()
			return nil, err
		}
		s.AddENI(ENI{ID: n.ENIID, InstanceID: n.InstanceID, MAC: n.MAC, PrimaryIP: n.PrivateIP})
		c.Nodes = append(c.Nodes, n)
	}
	s.AddRouteTable("rtb-1")
	s.AddRouteTable("rtb-2")
	s.AddAddress(Address{AllocationID: "eipalloc-1", PublicIP: "203.0.113.10"})
	return c, nil
}

// Close stops every server. It is safe to call more than once.
func (c *Cloud) Close() {
	for _, n := range c.Nodes {
		n.IMDS.Close()
	}
	c.EC2.Close()
}
