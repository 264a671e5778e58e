package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DefaultWebhookTimeout bounds one webhook POST.
const DefaultWebhookTimeout = 10 * time.Second

// WebhookConfig configures the JSON webhook.
type WebhookConfig struct {
	URL     string            // http or https
	Headers map[string]string // e.g. Authorization; Content-Type is set
	Timeout time.Duration     // one POST; <= 0: DefaultWebhookTimeout
	// Client sends the request; nil: a client with no timeout of its own
	// (Timeout applies) and the default transport settings.
	Client *http.Client
}

// WebhookPayload is the JSON body of a webhook POST.
type WebhookPayload struct {
	Kind          string    `json:"kind"` // "instance", "sync_group", "real_server"
	Name          string    `json:"name"`
	VirtualServer string    `json:"virtual_server,omitempty"`
	State         State     `json:"state"`
	RouterID      string    `json:"router_id,omitempty"`
	Subject       string    `json:"subject"` // as in the mail
	Body          string    `json:"body"`
	Time          time.Time `json:"time"`
}

type webhookSink struct {
	cfg WebhookConfig
}

func newWebhookSink(cfg WebhookConfig) (*webhookSink, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("alert: webhook url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("alert: webhook url %q: want http(s)://host/…", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultWebhookTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &webhookSink{cfg: cfg}, nil
}

func (w *webhookSink) name() string { return "webhook" }

func (w *webhookSink) deliver(ctx context.Context, m Message) error {
	body, err := json.Marshal(WebhookPayload{
		Kind: m.Event.Kind.String(), Name: m.Event.Name, VirtualServer: m.Event.VirtualServer,
		State: m.Event.State, RouterID: m.RouterID, Subject: m.Subject, Body: m.Body,
		Time: m.Event.Time.UTC(),
	})
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: post: %w", errStatus(resp.Status))
	}
	return nil
}

type errStatus string

func (e errStatus) Error() string { return "status " + string(e) }
