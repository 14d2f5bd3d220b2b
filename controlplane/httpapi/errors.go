package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/duckfleet/duckfleet/controlplane/store"
	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/gin-gonic/gin"
)

const maxBody = 1 << 20

// problem writes an RFC 9457 answer and aborts the request.
func problem(c *gin.Context, status int, title, detail string, fields ...api.FieldError) {
	c.Header("Content-Type", api.ProblemContentType)
	c.AbortWithStatusJSON(status, api.Problem{Title: title, Status: status, Detail: detail, Errors: fields})
}

// invalid answers 400 for a validation error.
func invalid(c *gin.Context, err error) {
	var ve *api.ValidationError
	if errors.As(err, &ve) {
		problem(c, http.StatusBadRequest, "Invalid Request", "the request has invalid fields; nothing was changed", ve.Errors...)
		return
	}
	problem(c, http.StatusBadRequest, "Invalid Request", err.Error())
}

// storeError maps a store error to its status: the one place that does.
func (h *Handler) storeError(c *gin.Context, what string, err error) {
	var stale *store.StaleError
	switch {
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, "Not Found", what+" does not exist")
	case errors.Is(err, store.ErrExists):
		problem(c, http.StatusConflict, "Conflict", what+" already exists")
	case errors.As(err, &stale):
		problem(c, http.StatusPreconditionFailed, "Precondition Failed", fmt.Sprintf(
			"%s is at generation %d but If-Match was %d: someone changed it since you read it; read it again and retry",
			what, stale.Stored, stale.Expected))
	default:
		h.cfg.Log.Error("store error", "what", what, "err", err)
		problem(c, http.StatusInternalServerError, "Internal Server Error", "the control plane could not complete the request; see its log")
	}
}

// decode reads a JSON body strictly into v: unknown fields, trailing data,
// wrong types and oversize bodies are 400s naming the field.
func decode(c *gin.Context, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	if err == nil {
		return true
	}
	var (
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
		tooBig *http.MaxBytesError
		fe     api.FieldError
	)
	switch {
	case errors.Is(err, io.EOF):
		fe = api.FieldError{Field: "body", Message: "is required: send a JSON object"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		fe = api.FieldError{Field: "body", Message: "is not valid JSON: it ends too early"}
	case errors.As(err, &syn):
		fe = api.FieldError{Field: "body", Message: fmt.Sprintf("is not valid JSON (at byte %d): %v", syn.Offset, syn)}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		fe = api.FieldError{Field: field, Message: fmt.Sprintf("must be %s, not a JSON %s", jsonKind(typ.Type.Kind().String()), typ.Value)}
	case errors.As(err, &tooBig):
		fe = api.FieldError{Field: "body", Message: "is larger than " + strconv.Itoa(maxBody) + " bytes"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		fe = api.FieldError{Field: name, Message: "is not a known field"}
	default:
		fe = api.FieldError{Field: "body", Message: err.Error()}
	}
	problem(c, http.StatusBadRequest, "Invalid Request", "the request body could not be read; nothing was changed", fe)
	return false
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "a list"
	}
	return "a " + k
}

// ifMatch reads an If-Match header: `"3"`, `3` or `*` (any, as absent).
func ifMatch(c *gin.Context) (int64, bool) {
	v := strings.TrimSpace(c.GetHeader("If-Match"))
	if v == "" || v == "*" {
		return 0, true
	}
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
	if err != nil || n <= 0 {
		problem(c, http.StatusBadRequest, "Invalid Request", "If-Match must be the object's generation, such as \"3\"",
			api.FieldError{Field: "If-Match", Message: fmt.Sprintf("%q is not a generation", v)})
		return 0, false
	}
	return n, true
}

func setETag(c *gin.Context, generation int64) {
	c.Header("ETag", `"`+strconv.FormatInt(generation, 10)+`"`)
}
