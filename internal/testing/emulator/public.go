package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// The emulator-only BlockPublicPolicy switch (§16.8), modelled on the
// withdrawn 2024 public-access block: while it is on for an account,
// AddPermission and PutResourcePolicy refuse to store a public statement
// there with PublicPolicyException.

// msgPublicPolicy is the text recorded in 2024 (§16.8).
const msgPublicPolicy = "Lambda blocked the creation of this policy because it would grant public access to your function. " +
	"If this is intentional, change your function's BlockPublicPolicy setting to allow public access and try again."

func errPublicPolicy() *apiError {
	return &apiError{http.StatusBadRequest, codePublicPolicy, msgPublicPolicy, 0}
}

// SetBlockPublicPolicy turns the BlockPublicPolicy switch of account on or
// off (see Config.BlockPublicPolicy). It panics unless account has 12
// digits.
func (s *Server) SetBlockPublicPolicy(account string, block bool) {
	if !accountIDPattern.MatchString(account) {
		panic("emulator: SetBlockPublicPolicy: account " + account + " is not a 12-digit account id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if block {
		s.blockPublic[account] = true
	} else {
		delete(s.blockPublic, account)
	}
}

// narrowingKeys are the condition keys (lower case: IAM matches keys
// case-insensitively) whose fixed value keeps a wildcard principal from
// being public (§16.8).
var narrowingKeys = []string{
	"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:principalorgid", "aws:principalorgpaths",
	"aws:principalaccount", "aws:principalarn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip",
}

// narrowingOperators are the operators that require the key to match one
// of the given values (optionally with ForAnyValue:, never with
// ForAllValues: or IfExists, which also pass when the key is absent).
var narrowingOperators = []string{"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress"}

// isPublicStatement reports whether a checked statement grants public
// access (§16.8): an Allow whose principal is "*", {"AWS":"*"} or an AWS
// list holding "*", without a narrowing condition.
func isPublicStatement(st *jsonNode) bool {
	if effect, _ := st.member("Effect").str(); effect != "Allow" {
		return false
	}
	return hasWildcardPrincipal(st.member("Principal")) && !isNarrowed(st.member("Condition"))
}

func hasWildcardPrincipal(principal *jsonNode) bool {
	if s, ok := principal.str(); ok {
		return s == "*"
	}
	aws := principal.member("AWS")
	if aws == nil {
		return false
	}
	values, _ := nonEmptyStrings(aws)
	return slices.Contains(values, "*")
}

// isNarrowed reports a condition that pins one of narrowingKeys to fixed
// values (no wildcard, no policy variable), or lambda:FunctionUrlAuthType
// to AWS_IAM.
func isNarrowed(condition *jsonNode) bool {
	if condition == nil {
		return false
	}
	for i, op := range condition.keys {
		base, prefix, ifExists := baseOperator(op)
		if ifExists || prefix == "ForAllValues:" || !slices.Contains(narrowingOperators, base) {
			continue
		}
		block := condition.vals[i]
		for j, key := range block.keys {
			values, ok := fixedValues(block.vals[j])
			if !ok {
				continue
			}
			key = strings.ToLower(key)
			if slices.Contains(narrowingKeys, key) {
				return true
			}
			if key == "lambda:functionurlauthtype" && !slices.ContainsFunc(values, func(v string) bool { return v != "AWS_IAM" }) {
				return true
			}
		}
	}
	return false
}

// fixedValues returns a condition value's values when every one is a
// string without a wildcard (* or ?) or policy variable (${...}), or a
// number.
func fixedValues(n *jsonNode) ([]string, bool) {
	items := []*jsonNode{n}
	if n.kind == kindArray {
		items = n.vals
	}
	var out []string
	for _, v := range items {
		switch {
		case v.kind == kindNumber:
		case v.kind != kindString, v.text == "", strings.ContainsAny(v.text, "*?"), strings.Contains(v.text, "${"):
			return nil, false
		}
		out = append(out, v.text)
	}
	return out, len(out) > 0
}

// isPublicStatementText judges a statement that AddPermission built.
func isPublicStatementText(statement string) bool {
	st, err := parseJSONTree([]byte(statement))
	return err == nil && isPublicStatement(st)
}
