package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
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

func TestFaultFlags(t *testing.T) {
	var faults emulator.Faults
	fault, latency := faultFlag{faultFlags{&faults}}, faultLatencyFlag{faultFlags{&faults}}
	for _, v := range []string{"*:throttle=0.05", "GetPolicy:drop=0.1", "GetPolicy:dropAfterApply=1", "*:serviceError=0"} {
		if err := fault.Set(v); err != nil {
			t.Fatalf("--fault %s: %v", v, err)
		}
	}
	for _, v := range []string{"AddPermission=50ms±20ms", "*=1s", "GetPolicy=10ms+-5ms"} {
		if err := latency.Set(v); err != nil {
			t.Fatalf("--fault-latency %s: %v", v, err)
		}
	}
	want := map[string]emulator.OperationFaults{
		"*":             {Throttle: 0.05, Latency: time.Second},
		"GetPolicy":     {Drop: 0.1, DropAfterApply: 1, Latency: 10 * time.Millisecond, LatencyJitter: 5 * time.Millisecond},
		"AddPermission": {Latency: 50 * time.Millisecond, LatencyJitter: 20 * time.Millisecond},
	}
	if !reflect.DeepEqual(faults.Operations, want) {
		t.Errorf("got %+v\nwant %+v", faults.Operations, want)
	}
	if err := (emulator.Config{Faults: faults}).Validate(); err != nil {
		t.Error(err)
	}
	for _, v := range []string{"throttle=0.1", "*:slow=0.1", "*:drop=often", ":drop=0.1"} {
		if err := fault.Set(v); err == nil {
			t.Errorf("--fault %s accepted", v)
		}
	}
	for _, v := range []string{"GetPolicy", "GetPolicy=soon", "GetPolicy=1s±x", "=1s"} {
		if err := latency.Set(v); err == nil {
			t.Errorf("--fault-latency %s accepted", v)
		}
	}
	if got := faultsString(faults); got != "*:throttle=0.05:latency=1s±0s,AddPermission:latency=50ms±20ms,"+
		"GetPolicy:drop=0.1:dropAfterApply=1:latency=10ms±5ms seed 0" {
		t.Errorf("faultsString = %s", got)
	}
}

func TestBlockPublicPolicyFlag(t *testing.T) {
	var accounts accountsFlag
	if got := accounts.String(); got != "none" {
		t.Errorf("String() = %s", got)
	}
	for _, v := range []string{"111111111111", "222222222222"} {
		if err := accounts.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := accounts.Set(""); err == nil {
		t.Error("an empty account was accepted")
	}
	if got := accounts.String(); got != "111111111111,222222222222" {
		t.Errorf("String() = %s", got)
	}
	if err := (emulator.Config{BlockPublicPolicy: accounts}).Validate(); err != nil {
		t.Error(err)
	}
	if err := (emulator.Config{BlockPublicPolicy: []string{"12345"}}).Validate(); err == nil {
		t.Error("Config.Validate accepted a bad account")
	}
}
