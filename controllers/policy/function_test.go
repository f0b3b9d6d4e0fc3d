package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFunctionName(t *testing.T) {
	tests := []struct {
		in   string
		want FunctionRef
	}{
		{"my-function", FunctionRef{Name: "my-function"}},
		{"my_function.v2", FunctionRef{Name: "my_function.v2"}},
		{"my-function:prod", FunctionRef{Name: "my-function", Qualifier: "prod"}},
		{"my-function:1", FunctionRef{Name: "my-function", Qualifier: "1"}},
		{"my-function:$LATEST", FunctionRef{Name: "my-function", Qualifier: "$LATEST"}},
		{"123456789012:function:my-function", FunctionRef{AccountID: "123456789012", Name: "my-function"}},
		{"123456789012:function:my-function:3", FunctionRef{AccountID: "123456789012", Name: "my-function", Qualifier: "3"}},
		{"us-west-2:123456789012:function:f", FunctionRef{Region: "us-west-2", AccountID: "123456789012", Name: "f"}},
		{"arn:aws:lambda:us-east-2:123456789012:function:my-function",
			FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "my-function"}},
		{"arn:aws:lambda:us-east-2:123456789012:function:my-function:prod",
			FunctionRef{Partition: "aws", Region: "us-east-2", AccountID: "123456789012", Name: "my-function", Qualifier: "prod"}},
		{"arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
			FunctionRef{Partition: "aws-cn", Region: "cn-north-1", AccountID: "123456789012", Name: "f"}},
		{"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:9",
			FunctionRef{Partition: "aws-us-gov", Region: "us-gov-west-1", AccountID: "123456789012", Name: "f", Qualifier: "9"}},
		{"arn:aws-iso:lambda:us-iso-east-1:123456789012:function:f",
			FunctionRef{Partition: "aws-iso", Region: "us-iso-east-1", AccountID: "123456789012", Name: "f"}},
		{"arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:f",
			FunctionRef{Partition: "aws-eusc", Region: "eusc-de-east-1", AccountID: "123456789012", Name: "f"}},
		{strings.Repeat("n", 64), FunctionRef{Name: strings.Repeat("n", 64)}},
	}
	for _, tt := range tests {
		got, err := ParseFunctionName(tt.in)
		if err != nil {
			t.Errorf("ParseFunctionName(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseFunctionName(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseFunctionNameRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"my function",
		"my/function",
		"f:a:b",
		"f:",
		"arn:aws:lambda:us-east-2:123456789012:my-function:x:y",
		"arn:aws:lambda:US-EAST-2:123456789012:function:f",
		"arn:aws:lambda:us-east-2:12345678901:function:f",
		"arn:aws:s3:us-east-2:123456789012:function:f",
		"f:prod!",
		strings.Repeat("n", 65),
		"arn:aws:lambda:us-east-2:123456789012:function:" + strings.Repeat("n", 210),
	} {
		_, err := ParseFunctionName(in)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "functionName" {
			t.Errorf("ParseFunctionName(%q) = %v, want a functionName error", in, err)
		}
	}
}

func TestResolveTarget(t *testing.T) {
	tests := []struct {
		name, functionName, qualifier string
		wantQualifier, wantErrField   string
	}{
		{"unqualified", "f", "", "", ""},
		{"qualifier field", "f", "prod", "prod", ""},
		{"qualifier in name", "f:prod", "", "prod", ""},
		{"both, equal", "f:7", "7", "7", ""},
		{"both, different", "f:7", "8", "", "qualifier"},
		{"$LATEST in qualifier", "f", "$LATEST", "", "qualifier"},
		{"$LATEST in name", "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST", "", "", "qualifier"},
		{"bad qualifier", "f", "invalid-qualifier-with-?-char", "", "qualifier"},
		{"qualifier too long", "f", strings.Repeat("q", 129), "", "qualifier"},
		{"qualifier with $", "f", "valid-with-$-but-doesnotexist", "valid-with-$-but-doesnotexist", ""},
		{"bad name", "a b", "", "", "functionName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := ResolveTarget(tt.functionName, tt.qualifier)
			if tt.wantErrField != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantErrField {
					t.Fatalf("err = %v, want a %s error", err, tt.wantErrField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ref.Qualifier != tt.wantQualifier {
				t.Errorf("Qualifier = %q, want %q", ref.Qualifier, tt.wantQualifier)
			}
		})
	}
}

func TestFunctionRefARNs(t *testing.T) {
	ref, err := ResolveTarget("123456789012:function:f", "prod")
	if err != nil {
		t.Fatal(err)
	}
	ref = ref.WithDefaults("eu-west-1", "999999999999")
	if !ref.Complete() {
		t.Fatalf("%+v is not complete", ref)
	}
	if got, want := ref.FunctionARN(), "arn:aws:lambda:eu-west-1:123456789012:function:f"; got != want {
		t.Errorf("FunctionARN = %s, want %s (the account from the name wins)", got, want)
	}
	if got, want := ref.ResourceARN(), "arn:aws:lambda:eu-west-1:123456789012:function:f:prod"; got != want {
		t.Errorf("ResourceARN = %s, want %s", got, want)
	}
	bare, _ := ParseFunctionName("f")
	if bare.Complete() {
		t.Error("a bare name is complete without defaults")
	}
	if got := bare.WithDefaults("cn-north-1", "123456789012").FunctionARN(); got != "arn:aws-cn:lambda:cn-north-1:123456789012:function:f" {
		t.Errorf("FunctionARN in China = %s", got)
	}
}
