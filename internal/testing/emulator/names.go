package emulator

import (
	"regexp"
	"strings"
)

// functionRef is a parsed FunctionName: a bare name, "name:qualifier", a
// partial ARN "ACCOUNT:function:name[:q]" or a full ARN (§2, §4.1).
type functionRef struct {
	name      string
	qualifier string // the ":q" suffix; "" when absent
	region    string // "" when the caller named none
	account   string // "" when the caller named none
}

// functionNameParts mirrors the NamespacedFunctionName pattern with named
// groups. Optional groups are greedy, so "123456789012:function:f" is an
// account plus a name, and "f:prod" is a name plus a qualifier.
var functionNameParts = func() *regexp.Regexp {
	region := `(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d`
	return regexp.MustCompile(`^(?:` +
		`arn:(?:aws[a-zA-Z-]*)?:lambda:(?P<arnRegion>` + region + `):(?P<arnAccount>\d{12}):` +
		`|(?:(?P<region>` + region + `):)?(?:(?P<account>\d{12}):)?` +
		`)(?:function:)?(?P<name>[a-zA-Z0-9-_.]+)(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$`)
}()

// parseFunctionName splits a FunctionName that already passed validation.
func parseFunctionName(s string) (functionRef, bool) {
	m := functionNameParts.FindStringSubmatch(s)
	if m == nil {
		return functionRef{}, false
	}
	group := func(name string) string { return m[functionNameParts.SubexpIndex(name)] }
	ref := functionRef{name: group("name"), qualifier: group("qualifier"), region: group("region"), account: group("account")}
	if r := group("arnRegion"); r != "" {
		ref.region, ref.account = r, group("arnAccount")
	}
	return ref, true
}

// mergeQualifier combines the name's ":q" suffix with the Qualifier
// parameter (§4.2): both may be given only when equal.
func mergeQualifier(fromName string, param *string) (string, *apiError) {
	if param == nil || *param == "" {
		return fromName, nil
	}
	if fromName != "" && fromName != *param {
		return "", errInvalidParameter(msgQualifierMismatch)
	}
	return *param, nil
}

// partitionOf maps a region to its ARN partition (§3.2 account principals).
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}

// functionARNIn is the unqualified ARN of a function in any account and region.
func (s *Server) functionARNIn(account, region, name string) string {
	return "arn:" + partitionOf(region) + ":lambda:" + region + ":" + account + ":function:" + name
}

// functionARN is the unqualified ARN of a function of account in this
// emulator's region.
func (s *Server) functionARN(account, name string) string {
	return s.functionARNIn(account, s.cfg.Region, name)
}

// qualifiedARN appends ":qualifier" unless the qualifier is empty.
func (s *Server) qualifiedARN(account, name, qualifier string) string {
	if qualifier == "" {
		return s.functionARN(account, name)
	}
	return s.functionARN(account, name) + ":" + qualifier
}

// resolveAccount returns the account a FunctionName acts in: the caller's,
// which an ARN may repeat. A foreign region is §4.7. A foreign account is
// IAM's AccessDeniedException naming the (qualified) resource: resource
// policies are not evaluated, so no cross-account call is allowed.
func (s *Server) resolveAccount(c *call, ref functionRef, qualifier string) (string, *apiError) {
	if ref.region != "" && ref.region != s.cfg.Region {
		return "", errNotFound("Functions from '" + ref.region + "' are not reachable in this region ('" + s.cfg.Region + "')")
	}
	if ref.account != "" && ref.account != c.who.account {
		return "", errAccessDenied(c, s.qualifiedARN(ref.account, ref.name, qualifier))
	}
	return c.who.account, nil
}

// functionsOf returns account's functions, creating the map on first use.
func (s *Server) functionsOf(account string) map[string]*function {
	fns := s.accounts[account]
	if fns == nil {
		fns = map[string]*function{}
		s.accounts[account] = fns
	}
	return fns
}
