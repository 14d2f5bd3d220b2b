// Package api is the wire contract shared by the provider, the control plane
// and the agents: the JSON types, their validation and canonical forms, and
// the error envelope. It imports only the standard library so that the pure-Go
// provider binary can use it.
//
// # Objects
//
// Every object served by the control plane has a name, a spec (desired state,
// written by clients), a status (observed state, written only by the control
// plane), a generation, and creation and update times. The generation starts
// at 1 and is bumped on every change of the spec; it is also the object's
// ETag. PUT and DELETE accept If-Match with that generation and answer 412
// Precondition Failed when it no longer matches, so two writers never silently
// overwrite each other. Specs are returned in canonical form (sizes
// normalised, see [CanonicalSize]) so that a client that stores what the API
// answered sees no spurious differences.
//
// # Errors
//
// Every error is an RFC 9457 problem document ([Problem], media type
// application/problem+json). Validation failures are 400 with one entry per
// offending field in Errors; unknown JSON fields are validation failures too.
// 401 means a missing or unknown token, 403 a token that may not do this,
// 404 an unknown object, 409 a name already taken, 412 a stale If-Match.
//
// # Agent protocol
//
// An agent starts with the control plane's URL and a join token. Its life:
//
//  1. Register (POST /v1/agent/register, bearer: join token) with its pool and
//     advertised URL. The answer holds a node id, a node credential and the
//     control plane's push-signing public key; the agent keeps them in its
//     data directory and never registers again (a restart resumes as the same
//     node). The control plane stores only the credential's hash.
//  2. Heartbeat (POST /v1/agent/heartbeat, bearer: node credential) every
//     interval with what it observes: the config revision it runs
//     (assignment and generation), health, the DuckDB settings in effect
//     (read back from DuckDB), and the last apply error. The answer holds the
//     revision the node should run and the heartbeat interval to use.
//  3. When the answered revision differs from the one it runs, the agent pulls
//     its config (GET /v1/agent/config, bearer: node credential) and applies it.
//
// The control plane also pushes configs (PUT /v1/config on the agent), signed
// with its Ed25519 key (see [PushSignatureHeader]); pushes make convergence
// fast, heartbeats make it certain: a node that missed a push picks the config
// up from its next heartbeat answer.
//
// A config's revision is the pair (Assignment, Generation): Assignment grows
// every time the node is given to a cluster or released; Generation is the
// cluster's generation. Applying is idempotent: an agent ignores a config
// whose revision is not newer than the one it runs, and reports an apply
// failure in its next heartbeat and retries it. After applying a config the
// agent heartbeats at once, so the control plane learns of convergence
// without waiting for the next interval.
//
// Handlers may be called concurrently; an agent serialises its own applies.
package api
