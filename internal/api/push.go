package api

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PushSignatureHeader carries the control plane's signature of its calls to
// agents (config pushes, query-log reads): "t=<unix seconds>,sig=<base64 Ed25519 signature>", signed over
// the node id, the time and the body. Agents refuse pushes whose signature
// does not verify with the key they got at registration, or whose time is
// more than PushMaxSkew away from theirs; replaying a valid push is harmless
// because configs are applied idempotently and older revisions are ignored.
const PushSignatureHeader = "X-Duckfleet-Signature"

// PushMaxSkew is how far a push's signing time may be from the agent's clock.
const PushMaxSkew = 5 * time.Minute

func signingInput(nodeID, target string, unix int64, body []byte) []byte {
	b := make([]byte, 0, len(nodeID)+len(target)+len(body)+40)
	b = append(b, "duckfleet-controlplane\n"...)
	b = append(b, nodeID...)
	b = append(b, '\n')
	b = append(b, target...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, unix, 10)
	b = append(b, '\n')
	return append(b, body...)
}

// SignRequest returns the PushSignatureHeader value for a control-plane
// call to nodeID: target is the method and the path with its query, such
// as "PUT /v1/config".
func SignRequest(key ed25519.PrivateKey, nodeID, target string, now time.Time, body []byte) string {
	unix := now.Unix()
	sig := ed25519.Sign(key, signingInput(nodeID, target, unix, body))
	return "t=" + strconv.FormatInt(unix, 10) + ",sig=" + base64.StdEncoding.EncodeToString(sig)
}

// SignPush signs a config push (PUT /v1/config) of body to nodeID.
func SignPush(key ed25519.PrivateKey, nodeID string, now time.Time, body []byte) string {
	return SignRequest(key, nodeID, "PUT /v1/config", now, body)
}

// VerifyPush checks the signature of a config push.
func VerifyPush(pub ed25519.PublicKey, nodeID, header string, body []byte, now time.Time) error {
	return VerifyRequest(pub, nodeID, "PUT /v1/config", header, body, now)
}

// VerifyRequest checks a PushSignatureHeader value for a call to target.
func VerifyRequest(pub ed25519.PublicKey, nodeID, target, header string, body []byte, now time.Time) error {
	if header == "" {
		return errors.New("missing " + PushSignatureHeader + " header")
	}
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "sig":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("malformed signature: no valid t=")
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return errors.New("malformed signature: no valid sig=")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > PushMaxSkew || d < -PushMaxSkew {
		return fmt.Errorf("request signed %s away from this node's clock (more than %s)", d.Round(time.Second), PushMaxSkew)
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, signingInput(nodeID, target, unix, body), raw) {
		return errors.New("signature does not verify")
	}
	return nil
}
