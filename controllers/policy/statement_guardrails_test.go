package policy

import (
	"testing"
)

func TestStatementIsPublic(t *testing.T) {
	tests := []struct {
		name, effect, principal, condition string
		public                             bool
	}{
		{"star", "Allow", `"*"`, "", true},
		{"AWS star", "Allow", `{"AWS":"*"}`, "", true},
		{"AWS list with star", "Allow", `{"AWS":["111122223333","*"]}`, "", true},
		{"star beside a service", "Allow", `{"AWS":"*","Service":"s3.amazonaws.com"}`, "", true},
		{"Deny star", "Deny", `"*"`, "", false},
		{"account", "Allow", `{"AWS":"111122223333"}`, "", false},
		{"service", "Allow", `{"Service":"s3.amazonaws.com"}`, "", false},
		{"Federated star is not AWS star", "Allow", `{"Federated":"*"}`, "", false},
		{"source account", "Allow", `"*"`, `{"StringEquals":{"AWS:SourceAccount":"111122223333"}}`, false},
		{"source account as a number", "Allow", `"*"`, `{"StringEquals":{"aws:SourceAccount":111122223333}}`, false},
		{"source account in lower case", "Allow", `"*"`, `{"StringEquals":{"aws:sourceaccount":"111122223333"}}`, false},
		{"source ARN", "Allow", `"*"`, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}}`, false},
		{"source ARN with a wildcard", "Allow", `"*"`, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket-*"}}`, true},
		{"source ARN with a ?", "Allow", `"*"`, `{"StringLike":{"aws:SourceArn":"arn:aws:s3:::bucket-?"}}`, true},
		{"one of the values with a wildcard", "Allow", `"*"`, `{"ArnEquals":{"aws:SourceArn":["arn:aws:s3:::a","arn:aws:s3:::b*"]}}`, true},
		{"empty value", "Allow", `"*"`, `{"StringEquals":{"aws:SourceAccount":""}}`, true},
		{"policy variable", "Allow", `"*"`, `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`, true},
		{"source owner", "Allow", `"*"`, `{"StringEquals":{"aws:SourceOwner":"111122223333"}}`, false},
		{"organization", "Allow", `"*"`, `{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`, false},
		{"organization, ignoring case", "Allow", `"*"`, `{"StringEqualsIgnoreCase":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`, false},
		{"organization path, ForAnyValue", "Allow", `"*"`, `{"ForAnyValue:StringEquals":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"]}}`, false},
		{"organization path with a wildcard", "Allow", `"*"`, `{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/*"]}}`, true},
		{"principal account", "Allow", `"*"`, `{"StringEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}`, false},
		{"principal ARN", "Allow", `"*"`, `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/r"}}`, false},
		{"VPC", "Allow", `"*"`, `{"StringEquals":{"aws:SourceVpc":"vpc-1a2b3c4d"}}`, false},
		{"VPC endpoint", "Allow", `"*"`, `{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}`, false},
		{"source IP", "Allow", `"*"`, `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, false},
		{"not the source IP", "Allow", `"*"`, `{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, true},
		{"negated operator", "Allow", `"*"`, `{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, true},
		{"IfExists", "Allow", `"*"`, `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`, true},
		{"ForAllValues", "Allow", `"*"`, `{"ForAllValues:StringEquals":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/"]}}`, true},
		{"Null", "Allow", `"*"`, `{"Null":{"aws:SourceAccount":"false"}}`, true},
		{"other key", "Allow", `"*"`, `{"StringEquals":{"aws:PrincipalTag/team":"a"}}`, true},
		{"function URL NONE", "Allow", `"*"`, `{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}`, true},
		{"function URL AWS_IAM", "Allow", `"*"`, `{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}`, false},
		{"function URL key in another case", "Allow", `"*"`, `{"StringEquals":{"Lambda:functionurlauthtype":"AWS_IAM"}}`, false},
		{"function URL value in another case", "Allow", `"*"`, `{"StringEqualsIgnoreCase":{"lambda:FunctionUrlAuthType":"aws_iam"}}`, true},
		{"function URL AWS_IAM or NONE", "Allow", `"*"`, `{"StringEquals":{"lambda:FunctionUrlAuthType":["AWS_IAM","NONE"]}}`, true},
		{"invoked via function URL only", "Allow", `"*"`, `{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}`, true},
		{"event source token only", "Allow", `"*"`, `{"StringEquals":{"lambda:EventSourceToken":"tok"}}`, true},
		{"one narrowing condition among others", "Allow", `"*"`, `{"Bool":{"aws:SecureTransport":true},"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := docStatement(t, "Effect", `"`+tt.effect+`"`, "Principal", tt.principal, "Condition", tt.condition)
			if got := st.IsPublic(); got != tt.public {
				t.Errorf("IsPublic() = %v, want %v for %s", got, tt.public, st.Render())
			}
		})
	}
}

func TestStatementIsServiceWithoutSource(t *testing.T) {
	tests := []struct {
		name, effect, principal, condition string
		want                               bool
	}{
		{"service", "Allow", `{"Service":"s3.amazonaws.com"}`, "", true},
		{"services in a list", "Allow", `{"Service":["s3.amazonaws.com","sns.amazonaws.com"]}`, "", true},
		{"service beside an account", "Allow", `{"AWS":"111122223333","Service":"sns.amazonaws.com"}`, "", true},
		{"Deny service", "Deny", `{"Service":"s3.amazonaws.com"}`, "", false},
		{"account", "Allow", `{"AWS":"111122223333"}`, "", false},
		{"star", "Allow", `"*"`, "", false},
		{"source ARN as Lambda writes it", "Allow", `{"Service":"s3.amazonaws.com"}`, `{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}}`, false},
		{"source ARN in lower case", "Allow", `{"Service":"s3.amazonaws.com"}`, `{"ArnEquals":{"aws:sourcearn":"arn:aws:s3:::b"}}`, false},
		{"source ARN with a wildcard", "Allow", `{"Service":"s3.amazonaws.com"}`, `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}`, false},
		{"source account", "Allow", `{"Service":"s3.amazonaws.com"}`, `{"StringEquals":{"AWS:SourceAccount":"111122223333"}}`, false},
		{"source account under any operator", "Allow", `{"Service":"s3.amazonaws.com"}`, `{"ForAllValues:StringNotEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`, false},
		{"source owner is not a source", "Allow", `{"Service":"s3.amazonaws.com"}`, `{"StringEquals":{"aws:SourceOwner":"111122223333"}}`, true},
		{"event source token is not a source", "Allow", `{"Service":"alexa-appkit.amazon.com"}`, `{"StringEquals":{"lambda:EventSourceToken":"tok"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := docStatement(t, "Effect", `"`+tt.effect+`"`, "Principal", tt.principal, "Condition", tt.condition)
			if got := st.IsServiceWithoutSource(); got != tt.want {
				t.Errorf("IsServiceWithoutSource() = %v, want %v for %s", got, tt.want, st.Render())
			}
		})
	}
}

// guardrailCase is a Permission and what the statement predicates say of
// the statement DesiredStatement renders from it; Permission's own
// predicates must say the same.
type guardrailCase struct {
	p                    Permission
	public               bool
	serviceWithoutSource bool
}

func guardrailCases() map[string]guardrailCase {
	const (
		invoke  = "lambda:InvokeFunction"
		service = "s3.amazonaws.com"
	)
	conditions := func(c ...ConditionEntry) []ConditionEntry { return c }
	return map[string]guardrailCase{
		"service":                      {p: Permission{Principal: service}, serviceWithoutSource: true},
		"service with source ARN":      {p: Permission{Principal: service, SourceArn: "arn:aws:s3:::b"}},
		"service with wildcard ARN":    {p: Permission{Principal: service, SourceArn: "arn:aws:s3:::b-*"}},
		"service with source account":  {p: Permission{Principal: service, SourceAccount: "111122223333"}},
		"service with organization":    {p: Permission{Principal: service, PrincipalOrgID: "o-a1b2c3d4e5"}, serviceWithoutSource: true},
		"Deny service":                 {p: Permission{Principal: service, Effect: EffectDeny}},
		"alexa with token":             {p: Permission{Principal: "alexa-appkit.amazon.com", EventSourceToken: "amzn1.ask.skill.x"}, serviceWithoutSource: true},
		"regional service":             {p: Permission{Principal: "logs.us-east-1.amazonaws.com"}, serviceWithoutSource: true},
		"account":                      {p: Permission{Principal: "111122223333"}},
		"role":                         {p: Permission{Principal: "arn:aws:iam::111122223333:role/r"}},
		"star":                         {p: Permission{Principal: "*"}, public: true},
		"Deny star":                    {p: Permission{Principal: "*", Effect: EffectDeny}},
		"star with source ARN":         {p: Permission{Principal: "*", SourceArn: "arn:aws:s3:::b"}},
		"star with source account":     {p: Permission{Principal: "*", SourceAccount: "111122223333"}},
		"star with organization":       {p: Permission{Principal: "*", PrincipalOrgID: "o-a1b2c3d4e5"}},
		"star with URL AWS_IAM":        {p: Permission{Principal: "*", Action: "lambda:InvokeFunctionUrl", FunctionURLAuthType: "AWS_IAM"}},
		"star with URL NONE":           {p: Permission{Principal: "*", Action: "lambda:InvokeFunctionUrl", FunctionURLAuthType: "NONE"}, public: true},
		"star with token":              {p: Permission{Principal: "*", EventSourceToken: "tok"}, public: true},
		"star via function URL":        {p: Permission{Principal: "*", InvokedViaFunctionURL: true}, public: true},
		"star with NotIpAddress":       {p: Permission{Principal: "*", Conditions: conditions(ConditionEntry{"NotIpAddress", "aws:SourceIp", []string{"192.0.2.0/24"}})}, public: true},
		"star with IfExists":           {p: Permission{Principal: "*", Conditions: conditions(ConditionEntry{"StringEqualsIfExists", "aws:PrincipalOrgID", []string{"o-a1b2c3d4e5"}})}, public: true},
		"service with IpAddress":       {p: Permission{Principal: service, Conditions: conditions(ConditionEntry{"IpAddress", "aws:SourceIp", []string{"192.0.2.0/24"}})}, serviceWithoutSource: true},
		"service with source owner":    {p: Permission{Principal: service, Conditions: conditions(ConditionEntry{"StringEquals", "aws:SourceOwner", []string{"111122223333"}})}, serviceWithoutSource: true},
		"star with source ARN and URL": {p: Permission{Principal: "*", SourceArn: "arn:aws:s3:::b", FunctionURLAuthType: "NONE"}},

		// Where Permission's predicates once looked at the members only,
		// and answered otherwise than SPEC §16.8.
		"star with wildcard source ARN":         {p: Permission{Principal: "*", SourceArn: "arn:aws:s3:::*"}, public: true},
		"star with ? in source ARN":             {p: Permission{Principal: "*", SourceArn: "arn:aws:sns:us-east-2:111122223333:topic-?"}, public: true},
		"star with IpAddress":                   {p: Permission{Principal: "*", Conditions: conditions(ConditionEntry{"IpAddress", "aws:SourceIp", []string{"192.0.2.0/24"}})}},
		"star with source VPC endpoint":         {p: Permission{Principal: "*", Conditions: conditions(ConditionEntry{"StringEquals", "aws:SourceVpce", []string{"vpce-1a2b3c4d"}})}},
		"service with source account condition": {p: Permission{Principal: service, Conditions: conditions(ConditionEntry{"StringEquals", "aws:SourceAccount", []string{"111122223333"}})}},
		"service with source ARN condition":     {p: Permission{Principal: service, Conditions: conditions(ConditionEntry{"ArnLike", "aws:SourceArn", []string{"arn:aws:s3:::b"}})}},
		"service with negated source account":   {p: Permission{Principal: service, Conditions: conditions(ConditionEntry{"StringNotEquals", "aws:SourceAccount", []string{"111122223333"}})}},
	}
}

// guardrailPermissions are guardrailCases' permissions, completed to pass
// Validate.
func guardrailPermissions() map[string]Permission {
	out := map[string]Permission{}
	for name, c := range guardrailCases() {
		p := c.p
		p.StatementID = "s"
		if p.Action == "" {
			p.Action = "lambda:InvokeFunction"
		}
		out[name] = p
	}
	return out
}

// TestStatementGuardrailsAgreeWithPermission: for the statement
// DesiredStatement renders from a Permission, the statement predicates
// answer as the Permission's do, except where the table says why not.
func TestStatementGuardrailsAgreeWithPermission(t *testing.T) {
	target := FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "my-function"}
	cases := guardrailCases()
	permissions := guardrailPermissions()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := permissions[name]
			if err := p.Validate(); err != nil {
				t.Fatalf("the table's permission is invalid: %v", err)
			}
			st := DesiredStatement(target, p)
			if got := st.IsPublic(); got != c.public {
				t.Errorf("Statement.IsPublic() = %v, want %v for %s", got, c.public, st.Render())
			}
			if got := st.IsServiceWithoutSource(); got != c.serviceWithoutSource {
				t.Errorf("Statement.IsServiceWithoutSource() = %v, want %v for %s", got, c.serviceWithoutSource, st.Render())
			}
			if p.IsPublic() != st.IsPublic() || p.IsServiceWithoutSource() != st.IsServiceWithoutSource() {
				t.Errorf("Permission says public %v, service without source %v; the statement %s says %v, %v",
					p.IsPublic(), p.IsServiceWithoutSource(), st.Render(), st.IsPublic(), st.IsServiceWithoutSource())
			}
		})
	}
	for _, gc := range loadGoldenCases(t) {
		t.Run(gc.ID, func(t *testing.T) {
			p := permissionOf(gc.Input)
			st := DesiredStatement(gc.target(t), p)
			if st.IsPublic() != p.IsPublic() || st.IsServiceWithoutSource() != p.IsServiceWithoutSource() {
				t.Errorf("Permission says public %v, service without source %v; the statement %s says %v, %v",
					p.IsPublic(), p.IsServiceWithoutSource(), st.Render(), st.IsPublic(), st.IsServiceWithoutSource())
			}
		})
	}
}
