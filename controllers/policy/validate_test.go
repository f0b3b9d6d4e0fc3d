package policy

import (
	"errors"
	"strings"
	"testing"
)

func validPermission() Permission {
	return Permission{StatementID: "s3-invoke", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com"}
}

func TestValidateAcceptsWhatLambdaAccepts(t *testing.T) {
	tests := map[string]func(*Permission){
		"minimal":                      func(p *Permission) {},
		"Sid with dash and underscore": func(p *Permission) { p.StatementID = "a-B_9" },
		"Sid of 100 characters":        func(p *Permission) { p.StatementID = strings.Repeat("a", 100) },
		"action lambda:*":              func(p *Permission) { p.Action = "lambda:*" },
		"action *":                     func(p *Permission) { p.Action = "*" },
		"action GetFunction":           func(p *Permission) { p.Action = "lambda:GetFunction" },
		"principal *":                  func(p *Permission) { p.Principal = "*" },
		"principal account":            func(p *Permission) { p.Principal = "223456789012" },
		"principal root ARN":           func(p *Permission) { p.Principal = "arn:aws:iam::223456789012:root" },
		"principal role ARN":           func(p *Permission) { p.Principal = "arn:aws:iam::223456789012:role/service-role/my-role" },
		"principal user ARN in aws-cn": func(p *Permission) { p.Principal = "arn:aws-cn:iam::223456789012:user/u@example.com" },
		"principal regional service":   func(p *Permission) { p.Principal = "logs.us-east-1.amazonaws.com" },
		"principal alexa":              func(p *Permission) { p.Principal = "alexa-appkit.amazon.com" },
		"principal china service":      func(p *Permission) { p.Principal = "s3.amazonaws.com.cn" },
		"sourceArn with wildcards":     func(p *Permission) { p.SourceArn = "arn:aws:execute-api:us-east-2:123456789012:abc/*/POST/x" },
		"sourceArn S3 bucket":          func(p *Permission) { p.SourceArn = "arn:aws:s3:::bucket/*" },
		"sourceAccount":                func(p *Permission) { p.SourceAccount = "123456789012" },
		"principalOrgID":               func(p *Permission) { p.PrincipalOrgID = "o-a1b2c3d4e5" },
		"principalOrgID of 34":         func(p *Permission) { p.PrincipalOrgID = "o-" + strings.Repeat("a", 32) },
		"eventSourceToken":             func(p *Permission) { p.EventSourceToken = "amzn1.ask.skill.x-y_z" },
		"functionUrlAuthType NONE":     func(p *Permission) { p.FunctionURLAuthType = "NONE" },
		"functionUrlAuthType AWS_IAM":  func(p *Permission) { p.FunctionURLAuthType = "AWS_IAM" },
		"invokedViaFunctionUrl":        func(p *Permission) { p.InvokedViaFunctionURL = true },
		"effect Deny":                  func(p *Permission) { p.Effect = EffectDeny },
		"effect Allow":                 func(p *Permission) { p.Effect = EffectAllow },
		"conditions": func(p *Permission) {
			p.Conditions = []ConditionEntry{{"NotIpAddress", "aws:SourceIp", []string{"192.0.2.0/24"}}, {"ForAnyValue:StringLike", "aws:PrincipalOrgPaths", []string{"o-a1b2c3d4e5/*"}},
				{"StringEqualsIfExists", "aws:SourceVpce", []string{"vpce-1"}}, {"Null", "aws:SourceVpc", []string{"false"}}, {"StringEquals", "execute-api:ApiStage", []string{"prod"}}}
		},
		"a condition on another key beside sourceAccount": func(p *Permission) {
			p.SourceAccount = "123456789012"
			p.Conditions = []ConditionEntry{{"StringEquals", "aws:SourceVpce", []string{"vpce-1"}}}
		},
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			p := validPermission()
			change(&p)
			if err := p.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Permission)
		field  string
	}{
		{"Sid missing", func(p *Permission) { p.StatementID = "" }, "statementId"},
		{"Sid with dot", func(p *Permission) { p.StatementID = "example.com" }, "statementId"},
		{"Sid with space", func(p *Permission) { p.StatementID = "a b" }, "statementId"},
		{"Sid of 101", func(p *Permission) { p.StatementID = strings.Repeat("a", 101) }, "statementId"},
		{"action missing", func(p *Permission) { p.Action = "" }, "action"},
		{"action other service", func(p *Permission) { p.Action = "s3:GetObject" }, "action"},
		{"action with digits", func(p *Permission) { p.Action = "lambda:Invoke2" }, "action"},
		{"action prefix only", func(p *Permission) { p.Action = "lambda:" }, "action"},
		{"principal missing", func(p *Permission) { p.Principal = "" }, "principal"},
		{"principal with space", func(p *Permission) { p.Principal = "s3 .amazonaws.com" }, "principal"},
		{"principal too long", func(p *Permission) { p.Principal = strings.Repeat("a", 2040) + ".amazonaws.com" }, "principal"},
		{"principal bare amazonaws.com", func(p *Permission) { p.Principal = "amazonaws.com" }, "principal"},
		{"principal other domain", func(p *Permission) { p.Principal = "invalid.nonaws.com" }, "principal"},
		{"principal malformed IAM ARN", func(p *Permission) { p.Principal = "arn:aws:iam:000000000000:role/xxxx" }, "principal"},
		{"principal 11 digits", func(p *Permission) { p.Principal = "12345678901" }, "principal"},
		{"sourceArn not an ARN", func(p *Permission) { p.SourceArn = "my-bucket" }, "sourceArn"},
		{"sourceArn bad account", func(p *Permission) { p.SourceArn = "arn:aws:s3::12345:bucket" }, "sourceArn"},
		{"sourceArn bad region", func(p *Permission) { p.SourceArn = "arn:aws:sns:US-EAST-1:123456789012:topic" }, "sourceArn"},
		{"sourceArn too long", func(p *Permission) { p.SourceArn = "arn:aws:s3:::" + strings.Repeat("b", 10000) }, "sourceArn"},
		{"sourceAccount short", func(p *Permission) { p.SourceAccount = "12345678901" }, "sourceAccount"},
		{"sourceAccount letters", func(p *Permission) { p.SourceAccount = "12345678901a" }, "sourceAccount"},
		{"sourceAccount long", func(p *Permission) { p.SourceAccount = "1234567890123" }, "sourceAccount"},
		{"principalOrgID no prefix", func(p *Permission) { p.PrincipalOrgID = "a1b2c3d4e5" }, "principalOrgID"},
		{"principalOrgID short", func(p *Permission) { p.PrincipalOrgID = "o-a1b2c3d4e" }, "principalOrgID"},
		{"principalOrgID upper case", func(p *Permission) { p.PrincipalOrgID = "o-A1B2C3D4E5" }, "principalOrgID"},
		{"principalOrgID of 35", func(p *Permission) { p.PrincipalOrgID = "o-" + strings.Repeat("a", 33) }, "principalOrgID"},
		{"eventSourceToken with slash", func(p *Permission) { p.EventSourceToken = "a/b" }, "eventSourceToken"},
		{"eventSourceToken too long", func(p *Permission) { p.EventSourceToken = strings.Repeat("a", 257) }, "eventSourceToken"},
		{"functionUrlAuthType lower case", func(p *Permission) { p.FunctionURLAuthType = "none" }, "functionUrlAuthType"},
		{"functionUrlAuthType other", func(p *Permission) { p.FunctionURLAuthType = "IAM" }, "functionUrlAuthType"},
		{"effect in lower case", func(p *Permission) { p.Effect = "deny" }, "effect"},
		{"condition operator misspelt", func(p *Permission) {
			p.Conditions = []ConditionEntry{{"IpAdress", "aws:SourceIp", []string{"192.0.2.0/24"}}}
		}, "conditions[0].operator"},
		{"condition Null with IfExists", func(p *Permission) {
			p.Conditions = []ConditionEntry{{"NullIfExists", "aws:SourceVpc", []string{"true"}}}
		}, "conditions[0].operator"},
		{"condition key without a prefix", func(p *Permission) {
			p.Conditions = []ConditionEntry{{"IpAddress", "SourceIp", []string{"192.0.2.0/24"}}}
		}, "conditions[0].key"},
		{"condition without values", func(p *Permission) { p.Conditions = []ConditionEntry{{"IpAddress", "aws:SourceIp", nil}} }, "conditions[0].values"},
		{"condition with an empty value", func(p *Permission) { p.Conditions = []ConditionEntry{{"IpAddress", "aws:SourceIp", []string{""}}} }, "conditions[0].values[0]"},
		{"condition key twice, in another case", func(p *Permission) {
			p.Conditions = []ConditionEntry{{"IpAddress", "aws:SourceIp", []string{"192.0.2.0/24"}}, {"IpAddress", "aws:sourceip", []string{"198.51.100.0/24"}}}
		}, "conditions[1].key"},
		{"condition on the key sourceArn sets", func(p *Permission) {
			p.SourceArn = "arn:aws:s3:::uploads"
			p.Conditions = []ConditionEntry{{"ArnLike", "aws:SourceArn", []string{"arn:aws:s3:::other"}}}
		}, "conditions[0].key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPermission()
			tt.change(&p)
			err := p.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate = %v, want a FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tt.field, err)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Errorf("message %q does not start with the field name", err)
			}
		})
	}
}

func TestValidateReportsEveryBadField(t *testing.T) {
	p := Permission{StatementID: "a.b", Action: "s3:Get", Principal: "nobody", SourceAccount: "1"}
	err := p.Validate()
	for _, field := range []string{"statementId", "action", "principal", "sourceAccount"} {
		if err == nil || !strings.Contains(err.Error(), field+": ") {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
}

func TestDesiredStatementPrincipals(t *testing.T) {
	tests := []struct {
		partition, principal, want string
	}{
		{"aws", "*", `"*"`},
		{"aws", "223456789012", `{"AWS":"arn:aws:iam::223456789012:root"}`},
		{"aws-cn", "223456789012", `{"AWS":"arn:aws-cn:iam::223456789012:root"}`},
		{"aws", "arn:aws:iam::223456789012:root", `{"AWS":"arn:aws:iam::223456789012:root"}`},
		{"aws", "arn:aws:iam::223456789012:role/r", `{"AWS":"arn:aws:iam::223456789012:role/r"}`},
		{"aws", "logs.us-east-1.amazonaws.com", `{"Service":"logs.us-east-1.amazonaws.com"}`},
		{"aws", "alexa-appkit.amazon.com", `{"Service":"alexa-appkit.amazon.com"}`},
	}
	for _, tt := range tests {
		target := FunctionRef{Partition: tt.partition, Region: "r-x-1", AccountID: "123456789012", Name: "f"}
		st := DesiredStatement(target, Permission{StatementID: "s", Action: "lambda:InvokeFunction", Principal: tt.principal})
		if got := st.Render(); !strings.Contains(got, `"Principal":`+tt.want+`,`) {
			t.Errorf("%s in %s: got %s, want Principal %s", tt.principal, tt.partition, got, tt.want)
		}
	}
}

func TestDesiredStatementConditionOrder(t *testing.T) {
	target := FunctionRef{Partition: "aws", Region: "us-east-1", AccountID: "123456789012", Name: "f", Qualifier: "7"}
	st := DesiredStatement(target, Permission{
		StatementID: "all", Action: "lambda:InvokeFunction", Principal: "*",
		SourceArn: "arn:aws:s3:::b<&>", SourceAccount: "123456789012", PrincipalOrgID: "o-a1b2c3d4e5",
		EventSourceToken: "tok", FunctionURLAuthType: "AWS_IAM", InvokedViaFunctionURL: true,
	})
	want := `{"Sid":"all","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f:7",` +
		`"Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012","lambda:FunctionUrlAuthType":"AWS_IAM","aws:PrincipalOrgID":"o-a1b2c3d4e5","lambda:EventSourceToken":"tok"},` +
		`"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b<&>"},"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}`
	if got := st.Render(); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}
