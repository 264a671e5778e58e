package tencent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/vipd/vipd/providers"
)

// credentialSource yields the credential for the next call. The pinned SDK
// (v1.0.162) has no provider chain (common.NewCvmRoleProvider and
// DefaultProviderChain came later), so vipd implements the two sources it
// needs: the environment, then the CVM's CAM role via instance metadata.
type credentialSource struct {
	md  providers.Metadata
	now func() time.Time

	mu      sync.Mutex
	cred    *common.Credential
	expires time.Time // zero: never (static keys)
}

// refreshBefore is how long before expiry a role credential is renewed.
const refreshBefore = 5 * time.Minute

// credentialsFromEnv reads TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY
// [/ TENCENTCLOUD_SESSION_TOKEN]; nil when not set.
func credentialsFromEnv() *common.Credential {
	id, key := os.Getenv("TENCENTCLOUD_SECRET_ID"), os.Getenv("TENCENTCLOUD_SECRET_KEY")
	if id == "" || key == "" {
		return nil
	}
	return common.NewTokenCredential(id, key, os.Getenv("TENCENTCLOUD_SESSION_TOKEN"))
}

// get returns a valid credential, fetching the CAM role's temporary keys
// from metadata when there are no static ones or they are about to expire.
func (s *credentialSource) get(ctx context.Context) (*common.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cred != nil && (s.expires.IsZero() || s.now().Add(refreshBefore).Before(s.expires)) {
		return s.cred, nil
	}
	role, err := s.md.Get(ctx, "cam/security-credentials/")
	if err != nil {
		return nil, fmt.Errorf("tencent: no credentials: TENCENTCLOUD_SECRET_ID/KEY unset and no CAM role in metadata: %w", err)
	}
	role = strings.TrimSpace(strings.SplitN(role, "\n", 2)[0])
	body, err := s.md.Get(ctx, "cam/security-credentials/"+role)
	if err != nil {
		return nil, fmt.Errorf("tencent: CAM role %s credentials: %w", role, err)
	}
	var r struct {
		TmpSecretId, TmpSecretKey, Token, Code string
		ExpiredTime                            int64
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("tencent: CAM role %s credentials: %w", role, err)
	}
	if r.Code != "Success" || r.TmpSecretId == "" {
		return nil, fmt.Errorf("tencent: CAM role %s credentials: %w", role, errors.New("metadata answered code "+r.Code))
	}
	s.cred = common.NewTokenCredential(r.TmpSecretId, r.TmpSecretKey, r.Token)
	s.expires = time.Unix(r.ExpiredTime, 0)
	return s.cred, nil
}

// expiresAt is when the kept credential expires (zero: static keys, or none
// yet).
func (s *credentialSource) expiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires
}
