package awstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vipd/vipd/providers/cloudtest"
)

// checkAuth verifies the request's AWS Signature Version 4, computed here
// independently of the SDK (canonical request → string to sign → HMAC
// chain), so a test passes only if the SDK really signed what it sent.
// Caller holds s.mu.
func (s *EC2) checkAuth(r cloudtest.Request) *apiError {
	fail := func(msg string) *apiError {
		return &apiError{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials: " + msg}
	}
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256"
	if !strings.HasPrefix(auth, algo+" ") {
		return fail("missing or non-SigV4 Authorization header")
	}
	fields := map[string]string{}
	for _, f := range strings.Split(strings.TrimPrefix(auth, algo+" "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/") // AKID/date/region/service/aws4_request
	if len(cred) != 5 || cred[4] != "aws4_request" {
		return fail("malformed Credential")
	}
	secret, ok := s.keys[cred[0]]
	if !ok {
		return fail("unknown access key " + cred[0])
	}
	if tok, ok := s.tokens[cred[0]]; ok && r.Header.Get("X-Amz-Security-Token") != tok {
		return fail("missing or wrong session token for " + cred[0])
	}
	if secret == "" {
		return nil
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if !strings.HasPrefix(amzDate, cred[1]) {
		return fail("X-Amz-Date does not match the credential scope")
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	var ch strings.Builder
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Header.Get(hostHeader)
		case "content-length":
			v = r.Header.Get("Content-Length")
			if v == "" {
				v = strconv.Itoa(len(r.Body))
			}
		default:
			vals := r.Header.Values(h)
			for i := range vals {
				vals[i] = strings.Join(strings.Fields(vals[i]), " ")
			}
			v = strings.Join(vals, ",")
		}
		ch.WriteString(h + ":" + v + "\n")
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = hexSHA(r.Body)
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{r.Method, escapePath(path), "" /* EC2 query API: all parameters are in the POST body */, ch.String(), fields["SignedHeaders"], payload}, "\n")
	scope := strings.Join(cred[1:], "/")
	toSign := strings.Join([]string{algo, amzDate, scope, hexSHA([]byte(canonical))}, "\n")
	key := []byte("AWS4" + secret)
	for _, part := range cred[1:] {
		key = hmacSHA(key, part)
	}
	want := hex.EncodeToString(hmacSHA(key, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return &apiError{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	}
	return nil
}

func hmacSHA(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
	}
	return strings.Join(segs, "/")
}
