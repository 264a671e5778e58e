package aws

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// metadataAPI is the part of the IMDS client discovery uses. The SDK client
// speaks IMDSv2: it PUTs /latest/api/token and sends the token with every GET.
type metadataAPI interface {
	GetMetadata(ctx context.Context, in *imds.GetMetadataInput, optFns ...func(*imds.Options)) (*imds.GetMetadataOutput, error)
	GetRegion(ctx context.Context, in *imds.GetRegionInput, optFns ...func(*imds.Options)) (*imds.GetRegionOutput, error)
}

var _ metadataAPI = (*imds.Client)(nil)

type identity struct {
	Region, InstanceID, ENIID string
}

// discover fills the empty fields of id from IMDS. iface, when set, names
// the local interface whose MAC selects the ENI; otherwise the primary
// interface's MAC is used.
func discover(ctx context.Context, md metadataAPI, iface string, id identity) (identity, error) {
	if id.Region == "" {
		out, err := md.GetRegion(ctx, &imds.GetRegionInput{})
		if err != nil {
			return id, fmt.Errorf("aws: imds region: %w", err)
		}
		id.Region = out.Region
	}
	if id.InstanceID == "" {
		v, err := metadata(ctx, md, "instance-id")
		if err != nil {
			return id, err
		}
		id.InstanceID = v
	}
	if id.ENIID == "" {
		var mac string
		if iface != "" {
			ifi, err := net.InterfaceByName(iface)
			if err != nil {
				return id, fmt.Errorf("aws: eni of %s: %w", iface, err)
			}
			if len(ifi.HardwareAddr) == 0 {
				return id, fmt.Errorf("aws: eni of %s: interface has no MAC address", iface)
			}
			mac = ifi.HardwareAddr.String()
		} else {
			v, err := metadata(ctx, md, "mac")
			if err != nil {
				return id, err
			}
			mac = v
		}
		v, err := metadata(ctx, md, "network/interfaces/macs/"+strings.ToLower(mac)+"/interface-id")
		if err != nil {
			return id, err
		}
		id.ENIID = v
	}
	return id, nil
}

func metadata(ctx context.Context, md metadataAPI, path string) (string, error) {
	out, err := md.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
	if err != nil {
		return "", fmt.Errorf("aws: imds %s: %w", path, err)
	}
	defer out.Content.Close()
	b, err := io.ReadAll(io.LimitReader(out.Content, 4096))
	if err != nil {
		return "", fmt.Errorf("aws: imds %s: %w", path, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("aws: imds %s: empty answer", path)
	}
	return v, nil
}
