package emulator

// permission holds the AddPermission members that end up in a statement.
type permission struct {
	sid                   string
	action                string
	sourceArn             *string
	sourceAccount         *string
	eventSourceToken      *string
	principalOrgID        *string
	functionURLAuthType   *string
	invokedViaFunctionURL *bool
}

// buildStatement writes the statement exactly as AWS stores it (§3.1):
// compact JSON, keys Sid, Effect, Principal, Action, Resource[, Condition].
// Action is a string, copied verbatim.
func buildStatement(p permission, principal, resource string) string {
	members := []member{
		stringMember("Sid", p.sid),
		stringMember("Effect", "Allow"),
		rawMember("Principal", principal),
		stringMember("Action", p.action),
		stringMember("Resource", resource),
	}
	if condition := buildCondition(p); condition != "" {
		members = append(members, rawMember("Condition", condition))
	}
	return jsonObject(members...)
}

// buildCondition maps the optional members to condition operators (§3.4).
// Operators: StringEquals, then ArnLike (recorded), then Bool ([unknown],
// placed last). StringEquals keys: AWS:SourceAccount,
// lambda:FunctionUrlAuthType, aws:PrincipalOrgID (recorded), then
// lambda:EventSourceToken ([unknown], placed last). Note the mixed "AWS:" /
// "aws:" prefixes. Returns "" when there is no condition: AWS omits the key
// rather than writing {}.
func buildCondition(p permission) string {
	var stringEquals []member
	add := func(key string, value *string) {
		if value != nil {
			stringEquals = append(stringEquals, stringMember(key, *value))
		}
	}
	add("AWS:SourceAccount", p.sourceAccount)
	add("lambda:FunctionUrlAuthType", p.functionURLAuthType)
	add("aws:PrincipalOrgID", p.principalOrgID)
	add("lambda:EventSourceToken", p.eventSourceToken)

	var operators []member
	if len(stringEquals) > 0 {
		operators = append(operators, rawMember("StringEquals", jsonObject(stringEquals...)))
	}
	if p.sourceArn != nil {
		// ArnLike, not the StringLike the API docs claim (§10.1).
		operators = append(operators, rawMember("ArnLike", jsonObject(stringMember("AWS:SourceArn", *p.sourceArn))))
	}
	if p.invokedViaFunctionURL != nil && *p.invokedViaFunctionURL {
		// The value is the string "true", not a JSON boolean (§3.4).
		operators = append(operators, rawMember("Bool", jsonObject(stringMember("lambda:InvokedViaFunctionUrl", "true"))))
	}
	if len(operators) == 0 {
		return ""
	}
	return jsonObject(operators...)
}
