package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
)

func socketClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// RequestReload asks the agent listening on the unix socket at path to
// re-read its configuration and apply it.
func RequestReload(ctx context.Context, path string) (ReloadReply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://vipd/reload", nil)
	if err != nil {
		return ReloadReply{}, err
	}
	resp, err := socketClient(path).Do(req)
	if err != nil {
		return ReloadReply{}, fmt.Errorf("reload: is vipd running? connect %s: %w", path, err)
	}
	defer resp.Body.Close()
	var rep ReloadReply
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnprocessableEntity {
		return rep, fmt.Errorf("reload: agent answered %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return rep, fmt.Errorf("reload: decode: %w", err)
	}
	return rep, nil
}

// FetchStatus asks the agent listening on the unix socket at path for its
// status.
func FetchStatus(ctx context.Context, path string) (Status, error) {
	c := socketClient(path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://vipd/status", nil)
	if err != nil {
		return Status{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return Status{}, fmt.Errorf("status: is vipd running? connect %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Status{}, fmt.Errorf("status: agent answered %s", resp.Status)
	}
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return Status{}, fmt.Errorf("status: decode: %w", err)
	}
	return st, nil
}
