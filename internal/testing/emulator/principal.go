package emulator

import "regexp"

var (
	accountIDPrincipal = regexp.MustCompile(`^\d{12}$`)
	// A well-formed IAM/STS principal ARN: arn:PARTITION:iam::ACCOUNT:root
	// or .../path/name, names limited to [\w+=,.@-] as AWS's error says.
	iamPrincipalARN = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(?:iam|sts)::\d{12}:(?:root|[a-z-]+(?:/[\w+=,.@-]+)+)$`)
	// Anything that claims to be an IAM/STS ARN.
	iamLookingARN = regexp.MustCompile(`^arn:[^:]*:(?:iam|sts):`)
	// Service principals need at least one label before the AWS domain
	// (§3.2): "amazonaws.com" alone and "invalid.nonaws.com" are rejected.
	servicePrincipal = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:amazonaws\.com(?:\.cn)?|amazon\.com)$`)
)

// principalJSON validates Principal and returns the encoded JSON value
// stored in the statement (§3.2).
func principalJSON(principal, partition string) (string, *apiError) {
	switch {
	case principal == "*":
		// A bare string, never {"AWS":"*"}.
		return jsonString("*"), nil
	case accountIDPrincipal.MatchString(principal):
		return jsonObject(stringMember("AWS", "arn:"+partition+":iam::"+principal+":root")), nil
	case iamPrincipalARN.MatchString(principal):
		return jsonObject(stringMember("AWS", principal)), nil
	case iamLookingARN.MatchString(principal):
		// aws/aws-cli#7408: the missing spaces are in AWS's text.
		return "", errInvalidParameter("The provided input'" + principal +
			"'was invalid. Member must satisfy expression: [\\w+=,.@-]* Please check your input and try again.")
	case servicePrincipal.MatchString(principal):
		return jsonObject(stringMember("Service", principal)), nil
	}
	return "", errInvalidParameter(msgInvalidPrincipal)
}
