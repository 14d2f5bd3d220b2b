package api

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

var nameRE = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// NameRule describes valid names, for error messages and docs.
const NameRule = "1 to 63 lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen"

// ValidName reports whether s is a valid object or pool name.
func ValidName(s string) bool { return nameRE.MatchString(s) }

func checkName(v *ValidationError, field, s string) {
	switch {
	case s == "":
		v.add(field, "is required")
	case !ValidName(s):
		v.add(field, "%q is not a valid name: use %s", truncate(s), NameRule)
	}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// Normalize fills in defaults and writes the spec in canonical form, or
// returns a *ValidationError naming every invalid field (prefixed with
// prefix, such as "spec.").
func (s *ClusterSpec) Normalize(prefix string) error {
	var v ValidationError
	s.normalize(&v, prefix)
	return v.err()
}

func (s *ClusterSpec) normalize(v *ValidationError, prefix string) {
	if s.Pool == "" {
		s.Pool = DefaultPool
	}
	checkName(v, prefix+"pool", s.Pool)
	if s.Replicas < 0 || s.Replicas > MaxReplicas {
		v.add(prefix+"replicas", "%d is out of range: use 0 to %d", s.Replicas, MaxReplicas)
	}
	if s.MemoryLimit == "" {
		s.MemoryLimit = DefaultMemoryLimit
	}
	if n, err := ParseSize(s.MemoryLimit); err != nil {
		v.add(prefix+"memory_limit", "%s", err.Error())
	} else if n < MinMemoryLimit {
		v.add(prefix+"memory_limit", "%q is below the minimum of %s", s.MemoryLimit, FormatSize(MinMemoryLimit))
	} else {
		s.MemoryLimit = FormatSize(n)
	}
	if s.StorageURL != "" {
		if msg := checkStorageURL(s.StorageURL); msg != "" {
			v.add(prefix+"storage_url", "%s", msg)
		}
	}
	switch {
	case s.Threads == 0:
		s.Threads = DefaultThreads
	case s.Threads < 0 || s.Threads > MaxThreads:
		v.add(prefix+"threads", "%d is out of range: use 1 to %d", s.Threads, MaxThreads)
	}
}

// Normalize validates a create request and fills in defaults.
func (c *ClusterCreate) Normalize() error {
	var v ValidationError
	checkName(&v, "name", c.Name)
	c.Spec.normalize(&v, "spec.")
	return v.err()
}

// Normalize validates an update request and fills in defaults.
func (u *ClusterUpdate) Normalize() error {
	return u.Spec.Normalize("spec.")
}

// Normalize validates a registration.
func (r *RegisterRequest) Normalize() error {
	var v ValidationError
	if r.Pool == "" {
		r.Pool = DefaultPool
	}
	checkName(&v, "pool", r.Pool)
	checkEndpoint(&v, "endpoint", r.Endpoint)
	return v.err()
}

// Normalize validates a heartbeat.
func (o *Observed) Normalize() error {
	var v ValidationError
	checkEndpoint(&v, "endpoint", o.Endpoint)
	if o.Cluster != "" {
		checkName(&v, "cluster", o.Cluster)
	}
	return v.err()
}

func checkEndpoint(v *ValidationError, field, s string) {
	if s == "" {
		v.add(field, "is required")
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(field, "%q is not an http(s) URL with a host", truncate(s))
	}
}

// StorageSchemes are the blob URL schemes clusters may use.
var StorageSchemes = []string{"file", "s3", "gs", "azblob"}

// checkStorageURL returns why u is not a usable storage URL, or "".
func checkStorageURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("%q does not parse as a URL", truncate(s))
	case u.User != nil:
		return "must not carry credentials: give them to the agents through their environment"
	case !slices.Contains(StorageSchemes, u.Scheme):
		return fmt.Sprintf("scheme %q is not supported: use %s", u.Scheme, strings.Join(StorageSchemes, ", "))
	case u.Scheme == "file" && (u.Path == "" || !strings.HasPrefix(u.Path, "/")):
		return "a file:// URL needs an absolute path, such as file:///var/lib/duckfleet/storage"
	case u.Scheme != "file" && u.Host == "":
		return fmt.Sprintf("a %s:// URL needs a bucket, such as %s://my-bucket", u.Scheme, u.Scheme)
	}
	return ""
}
