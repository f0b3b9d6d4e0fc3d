package policy

import (
	"slices"
	"strings"
)

// The guardrails judged on whole statements, for documents whose
// statements are written as they are rather than built from a Permission.

// narrowingOperators require the key to be present and match (SPEC §16.8).
// With ForAnyValue: they still do; ForAllValues: and IfExists also pass when
// the key is absent, so those never narrow.
var narrowingOperators = []string{"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress"}

// narrowingKeys, in lower case (IAM compares keys without case), are the
// condition keys whose fixed values keep a wildcard principal from being
// public (SPEC §16.8).
var narrowingKeys = []string{
	"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:principalorgid", "aws:principalorgpaths",
	"aws:principalaccount", "aws:principalarn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip",
}

// IsPublic reports whether the statement lets anyone call, as SPEC §16.8
// defines it: an Allow whose principal is "*", {"AWS":"*"} or an AWS list
// holding "*", with no condition that narrows it. A condition narrows when
// its operator is one of narrowingOperators (plain or with ForAnyValue:)
// and either its key is one of narrowingKeys with only fixed values, or it
// is lambda:FunctionUrlAuthType with only AWS_IAM.
//
// A Deny grants nothing, so it is never public.
func (s Statement) IsPublic() bool {
	return s.Effect == EffectAllow && s.Principal.includesAnyone() && !s.Condition.narrowsToKnownCallers()
}

// IsServiceWithoutSource reports whether the statement allows a service
// principal without a condition on aws:SourceArn or aws:SourceAccount
// (under any operator, keys compared without case): then resources in any
// account can make the service call the function (the confused deputy
// problem).
//
// A Deny grants nothing, so it needs no source.
func (s Statement) IsServiceWithoutSource() bool {
	return s.Effect == EffectAllow && len(s.Principal.IDs["Service"]) > 0 &&
		!s.Condition.hasKey(keySourceArn) && !s.Condition.hasKey(keySourceAccount)
}

func (p Principal) includesAnyone() bool {
	return p.Anyone || slices.Contains(p.IDs["AWS"], "*")
}

func (c Condition) narrowsToKnownCallers() bool {
	for operator, keys := range c {
		if !slices.Contains(narrowingOperators, strings.TrimPrefix(operator, "ForAnyValue:")) {
			continue
		}
		for key, values := range keys {
			if !fixedValues(values) {
				continue
			}
			key = strings.ToLower(key)
			if slices.Contains(narrowingKeys, key) {
				return true
			}
			if key == strings.ToLower(keyFunctionURLAuthType) && !slices.ContainsFunc(values, func(v string) bool { return v != "AWS_IAM" }) {
				return true
			}
		}
	}
	return false
}

// fixedValues reports values that each match one thing: non-empty, no
// wildcard (* or ?) and no policy variable (${…}).
func fixedValues(values []string) bool {
	if len(values) == 0 {
		return false
	}
	for _, v := range values {
		if v == "" || strings.ContainsAny(v, "*?") || strings.Contains(v, "${") {
			return false
		}
	}
	return true
}

func (c Condition) hasKey(key string) bool {
	for _, keys := range c {
		for k := range keys {
			if strings.EqualFold(k, key) {
				return true
			}
		}
	}
	return false
}
