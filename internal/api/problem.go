package api

import (
	"fmt"
	"strings"
)

// ProblemContentType is the media type of error answers (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is the body of every error answer.
type Problem struct {
	Type   string       `json:"type,omitempty"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

// Error renders the problem as one line: the detail, then each field error.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Title)
	if p.Detail != "" {
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	for _, fe := range p.Errors {
		b.WriteString("; ")
		b.WriteString(fe.Error())
	}
	return b.String()
}

// FieldError names one invalid input field and why it is invalid. Field uses
// the JSON path of the request body, such as "spec.memory_limit".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Message) }

// ValidationError collects the field errors of one request.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Error()
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// add records a field error.
func (e *ValidationError) add(field, format string, args ...any) {
	e.Errors = append(e.Errors, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns e when it holds errors, or nil.
func (e *ValidationError) err() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}
