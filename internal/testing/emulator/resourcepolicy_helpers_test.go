package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Helpers for the whole-document operations (SPEC §16).

func putResourcePolicy(arn, policy, revisionID string) func(context.Context, *lambda.Client) error {
	return func(ctx context.Context, c *lambda.Client) error {
		in := &lambda.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(policy)}
		if revisionID != "" {
			in.RevisionId = aws.String(revisionID)
		}
		_, err := c.PutResourcePolicy(ctx, in)
		return err
	}
}

func getResourcePolicy(arn string) func(context.Context, *lambda.Client) error {
	return func(ctx context.Context, c *lambda.Client) error {
		_, err := c.GetResourcePolicy(ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
		return err
	}
}

func deleteResourcePolicy(arn, revisionID string) func(context.Context, *lambda.Client) error {
	return func(ctx context.Context, c *lambda.Client) error {
		in := &lambda.DeleteResourcePolicyInput{ResourceArn: aws.String(arn)}
		if revisionID != "" {
			in.RevisionId = aws.String(revisionID)
		}
		_, err := c.DeleteResourcePolicy(ctx, in)
		return err
	}
}

// put calls PutResourcePolicy and returns its Policy and RevisionId or fails.
func (h *harness) put(arn, policy, revisionID string) (string, string) {
	h.t.Helper()
	in := &lambda.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(policy)}
	if revisionID != "" {
		in.RevisionId = aws.String(revisionID)
	}
	out, err := h.client.PutResourcePolicy(h.ctx, in)
	if err != nil {
		h.t.Fatalf("PutResourcePolicy(%s): %v", arn, err)
	}
	return aws.ToString(out.Policy), aws.ToString(out.RevisionId)
}

// mustResourcePolicy returns GetResourcePolicy's Policy and RevisionId or
// fails.
func (h *harness) mustResourcePolicy(arn string) (string, string) {
	h.t.Helper()
	out, err := h.client.GetResourcePolicy(h.ctx, &lambda.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	if err != nil {
		h.t.Fatalf("GetResourcePolicy(%s): %v", arn, err)
	}
	return aws.ToString(out.Policy), aws.ToString(out.RevisionId)
}

// assertDocument checks that GetResourcePolicy, GetPolicy and Server.Policy
// all return want with one RevisionId, and returns it.
func (h *harness) assertDocument(name, qualifier, want string) string {
	h.t.Helper()
	arn := "arn:aws:lambda:" + h.emu.cfg.Region + ":" + testAccount + ":function:" + name
	if qualifier != "" {
		arn += ":" + qualifier
	}
	got, rev := h.mustResourcePolicy(arn)
	if got != want {
		h.t.Fatalf("GetResourcePolicy(%s)\n got: %s\nwant: %s", arn, got, want)
	}
	gotPolicy, revPolicy := h.mustPolicy(name, qualifier)
	if gotPolicy != want || revPolicy != rev {
		h.t.Fatalf("GetPolicy(%s, %q) = %s (RevisionId %s)\nwant %s (RevisionId %s)", name, qualifier, gotPolicy, revPolicy, want, rev)
	}
	if stored, storedRev, ok := h.emu.Policy(name, qualifier); !ok || stored != want || storedRev != rev {
		h.t.Fatalf("Server.Policy(%s, %q) = %s %s %v", name, qualifier, stored, storedRev, ok)
	}
	return rev
}

// document is a minimal valid policy around statements (compact).
func document(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// accountStatement grants account 111122223333 InvokeFunction on resource.
func accountStatement(sid, resource string) string {
	return `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"lambda:InvokeFunction","Resource":"` + resource + `"}`
}

// richStatements exercise what a full JSON policy may hold (§16.6): Deny,
// principal lists of several kinds, Action and Resource arrays, Condition
// values that are lists, booleans and numbers, set operators, and a
// statement without Sid. They are written with
// whitespace, as a person would.
func richStatements(fn string) []string {
	return []string{
		`{
      "Sid": "DenyOtherBuckets",
      "Effect": "Deny",
      "Principal": {"Service": "s3.amazonaws.com"},
      "Action": "lambda:InvokeFunction",
      "Resource": "` + fn + `",
      "Condition": {"ArnNotLike": {"AWS:SourceArn": "arn:aws:s3:::allowed-*"}}
    }`,
		`{
      "Sid": "Partners",
      "Effect": "Allow",
      "Principal": {
        "AWS": ["arn:aws:iam::111122223333:role/deployer", "444455556666"],
        "Service": ["events.amazonaws.com", "sns.amazonaws.com"]
      },
      "Action": ["lambda:InvokeFunction", "lambda:GetFunction"],
      "Resource": ["` + fn + `", "` + fn + `:*"],
      "Condition": {
        "IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.7/32"]},
        "Bool": {"aws:SecureTransport": true},
        "NumericLessThanEquals": {"aws:MultiFactorAuthAge": 3600},
        "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"]}
      }
    }`,
		`{
      "Effect": "Allow",
      "Principal": "*",
      "Action": "lambda:InvokeFunctionUrl",
      "Resource": "` + fn + `",
      "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}
    }`,
	}
}

// spaced wraps statements in a policy written with whitespace.
func spaced(statements ...string) string {
	return "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    " + strings.Join(statements, ",\n    ") + "\n  ]\n}\n"
}

// compactJSON is json.Compact of s.
func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("compact %s: %v", s, err)
	}
	return b.String()
}

// compactAll compacts each statement.
func compactAll(t *testing.T, statements []string) []string {
	out := make([]string, len(statements))
	for i, s := range statements {
		out[i] = compactJSON(t, s)
	}
	return out
}
