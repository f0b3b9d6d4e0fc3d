package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/hack/lambda-emulator/emulator"
)

func TestParseRole(t *testing.T) {
	tests := []struct {
		in   string
		want emulator.Role
	}{
		{"arn:aws:iam::111111111111:role/r", emulator.Role{ARN: "arn:aws:iam::111111111111:role/r"}},
		{
			"arn:aws:iam::111111111111:role/r,externalId=x,y,trust=222222222222:333333333333,maxSession=2h",
			emulator.Role{ARN: "arn:aws:iam::111111111111:role/r", ExternalID: "x,y",
				TrustedAccounts: []string{"222222222222", "333333333333"}, MaxSessionDuration: 2 * time.Hour},
		},
		{"arn:aws:iam::111111111111:role/a,b,trust=222222222222", emulator.Role{ARN: "arn:aws:iam::111111111111:role/a,b", TrustedAccounts: []string{"222222222222"}}},
	}
	for _, tt := range tests {
		got, err := parseRole(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseRole(%q) = %+v, %v\nwant %+v", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseRole("arn:aws:iam::111111111111:role/r,maxSession=forever"); err == nil {
		t.Error("a bad maxSession was accepted")
	}
}

func TestAccessKeyFlag(t *testing.T) {
	keys := accessKeyFlag{}
	for _, v := range []string{"K1=111111111111", "K2=222222222222"} {
		if err := keys.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := keys.Set("nokey"); err == nil {
		t.Error("KEY without =ACCOUNT accepted")
	}
	if got := keys.String(); got != "K1=111111111111,K2=222222222222" {
		t.Errorf("String() = %s", got)
	}
}
