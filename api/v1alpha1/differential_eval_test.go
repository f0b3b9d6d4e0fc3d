//go:build integration

package v1alpha1_test

// Each kind's input through the three judges and Lambda (the oracles of
// differential_oracles_test.go), and what their answers tell together.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// dfResult is one input and what each judge said of it.
type dfResult struct {
	Case   dfCase
	API    apiVerdict
	Go     goVerdict
	Lambda lambdaVerdict
	// Document is, for a LambdaPermission that AddPermission writes (the
	// default write strategy), Lambda's answer to its statement written
	// whole (PutResourcePolicy), as writeStrategy Document writes it; nil
	// for any other input.
	Document *lambdaVerdict
	Typed    any // the spec as the operator reads it
}

// worker holds one goroutine's API client and emulator endpoint.
type worker struct {
	api    *apiServer
	lambda *lambdaEndpoint
}

// decode reads the spec the operator would see: the admitted object's
// (defaults applied), else the one sent.
func decode(r *dfResult, into any) error {
	spec := r.API.Spec
	if !r.API.Admitted {
		spec = r.Case.Spec
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}

// evaluate puts one case through the judges.
func (w *worker) evaluate(ctx context.Context, c dfCase) (*dfResult, error) {
	r := &dfResult{Case: c}
	var err error
	if r.API, err = w.api.admit(ctx, c.Kind, c.Name, c.Spec); err != nil {
		return nil, err
	}
	switch c.Kind {
	case kindPermission:
		err = w.permission(ctx, r)
	case kindURL:
		err = w.url(ctx, r)
	case kindPolicy:
		err = w.policy(ctx, r)
	case kindAccount:
		err = w.account(ctx, r)
	}
	return r, err
}

// permission: the statement Lambda gets from a LambdaPermission, through
// AddPermission (writeStrategy Statements) and, written whole, through
// PutResourcePolicy (writeStrategy Document, which a Deny or conditions
// need).
func (w *worker) permission(ctx context.Context, r *dfResult) error {
	var spec v1alpha1.LambdaPermissionSpec
	if err := decode(r, &spec); err != nil {
		return err
	}
	r.Typed = spec
	var perm policy.Permission
	var target policy.FunctionRef
	r.Go, perm, target = goPermission(spec, r.Case.Name)
	var err error
	r.Lambda, err = w.grant(ctx, spec.FunctionName, spec.Qualifier, spec.Region, target, perm)
	if err != nil || target.Name == "" || perm.NeedsDocument() || !regionPattern.MatchString(target.Region) {
		return err
	}
	env := w.lambda.env(target.Region, target.AccountID)
	env.createTarget(ctx, target.Name, target.Qualifier)
	doc, err := env.putPolicy(ctx, target, documentOf(policy.DesiredStatement(target, perm)))
	r.Document = &doc
	return err
}

// grant is Lambda's answer to perms, in turn, on the function a spec
// names: on target, the complete reference the operator makes of it, when
// it makes one; else on the name as written (and, for a whole document,
// the ARN its parts make). AddPermission carries a plain Allow,
// PutResourcePolicy what only a whole document holds (a Deny,
// conditions) and an effect that is neither. The first refusal is the
// answer.
func (w *worker) grant(ctx context.Context, functionName, qualifier, region string, target policy.FunctionRef, perms ...policy.Permission) (lambdaVerdict, error) {
	var env *lambdaEnv
	asWritten := target.Name == ""
	if asWritten {
		r, account, name, q := rawTarget(functionName, qualifier, region)
		if !regionPattern.MatchString(r) {
			return noEndpoint(r), nil
		}
		env = w.lambda.env(r, account)
		exists := env.createTarget(ctx, name, q)
		// A whole document names its resource by ARN, the name as Lambda's
		// pattern splits it; Lambda judges the name and qualifier as
		// written first (its pattern, the two qualifiers agreeing).
		target = policy.FunctionRef{Region: r, AccountID: account, Name: name, Qualifier: q}.WithDefaults(r, account)
		if v, err := env.getPolicy(ctx, functionName, qualifier, exists); err != nil || v.Outcome == lambdaRefused {
			return v, err
		}
	} else {
		if !regionPattern.MatchString(target.Region) {
			return noEndpoint(target.Region), nil
		}
		env = w.lambda.env(target.Region, target.AccountID)
		env.createTarget(ctx, target.Name, target.Qualifier)
	}
	for _, perm := range perms {
		var v lambdaVerdict
		var err error
		want := policy.DesiredStatement(target, perm)
		if perm.Effect != "" && perm.Effect != policy.EffectAllow && perm.Effect != policy.EffectDeny {
			want.Effect = perm.Effect // as written: DesiredStatement knows only Allow and Deny
		}
		switch {
		case perm.NeedsDocument() || perm.Effect != "":
			v, err = env.putPolicy(ctx, target, documentOf(want)) // AddPermission has no Effect: a bad one goes whole
		case asWritten:
			v, err = env.addPermission(ctx, functionName, qualifier, perm, nil)
		default:
			v, err = env.addPermission(ctx, target.FunctionARN(), target.Qualifier, perm, &want)
		}
		if err != nil || v.Outcome != lambdaAccepted {
			return v, err
		}
	}
	return lambdaVerdict{Outcome: lambdaAccepted}, nil
}

// url: the two LambdaPermissions the operator makes of a function URL
// grant, each admitted by the API server (the operator creates them) and
// checked as any LambdaPermission; Lambda gets both statements.
func (w *worker) url(ctx context.Context, r *dfResult) error {
	var spec v1alpha1.LambdaFunctionURLPermissionSpec
	if err := decode(r, &spec); err != nil {
		return err
	}
	if spec.Principal == "" && !r.API.Admitted {
		spec.Principal = "*" // the CRD's default
	}
	r.Typed = spec
	url := &v1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Name: r.Case.Name, Namespace: namespace}, Spec: spec}
	var errs []error
	var perms []policy.Permission
	var target policy.FunctionRef
	for _, child := range translate.FunctionURLPermissions(url, "") {
		admitted, err := w.api.admit(ctx, kindPermission, child.Name, specMap(child.Spec))
		if err != nil {
			return err
		}
		if !admitted.Admitted {
			errs = append(errs, fmt.Errorf("the API server refuses LambdaPermission %s: %s", child.Name, admitted.Message))
		}
		v, perm, childTarget := goPermission(child.Spec, child.Name)
		errs = append(errs, v.Err)
		if r.Go.Guardrail == "" {
			r.Go.Guardrail = v.Guardrail
		}
		perms, target = append(perms, perm), childTarget
	}
	r.Go.Err = errors.Join(errs...)
	var err error
	r.Lambda, err = w.grant(ctx, spec.FunctionName, spec.Qualifier, spec.Region, target, perms...)
	return err
}

// policy: the document the operator puts for a LambdaResourcePolicy (its
// statements alone: includePermissions adds none here), or, when it
// refuses them, the statements as written with Resource defaulted, as
// DeclaredStatements reads them.
func (w *worker) policy(ctx context.Context, r *dfResult) error {
	var spec v1alpha1.LambdaResourcePolicySpec
	if err := decode(r, &spec); err != nil {
		return err
	}
	r.Typed = spec
	var statements []policy.Statement
	var target policy.FunctionRef
	r.Go, statements, target = goResourcePolicy(spec)
	var err error
	switch {
	case target.Name == "":
		region, account, name, q := rawTarget(spec.FunctionName, spec.Qualifier, spec.Region)
		if !regionPattern.MatchString(region) {
			r.Lambda = noEndpoint(region)
			return nil
		}
		env := w.lambda.env(region, account)
		exists := env.createTarget(ctx, name, q)
		// Lambda judges the name as written, then the document on the ARN
		// its parts make.
		r.Lambda, err = env.getPolicy(ctx, spec.FunctionName, spec.Qualifier, exists)
		if err == nil && r.Lambda.Outcome != lambdaRefused && len(spec.Policy.Statement) > 0 {
			target = policy.FunctionRef{Region: region, AccountID: account, Name: name, Qualifier: q}.WithDefaults(region, account)
			r.Lambda, err = env.putPolicy(ctx, target, rawDocument(spec.Policy, target))
		}
	case !regionPattern.MatchString(target.Region):
		r.Lambda = noEndpoint(target.Region)
	case len(spec.Policy.Statement) == 0:
		r.Lambda = lambdaVerdict{Outcome: lambdaNoCall} // an empty policy is deleted, not put
	default:
		env := w.lambda.env(target.Region, target.AccountID)
		env.createTarget(ctx, target.Name, target.Qualifier)
		document := rawDocument(spec.Policy, target)
		if r.Go.Err == nil {
			document = documentOf(statements...)
		}
		r.Lambda, err = env.putPolicy(ctx, target, document)
	}
	return err
}

// rawDocument is a policy of the statements as written, each with its
// members in IAM's order and Resource defaulted to target's ARN.
func rawDocument(doc v1alpha1.ResourcePolicyDocument, target policy.FunctionRef) string {
	var b bytes.Buffer
	b.WriteString(`{"Version":"2012-10-17","Statement":[`)
	member := func(name string, raw []byte, first bool) {
		if !first {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(name)
		b.Write(key)
		b.WriteByte(':')
		if len(raw) == 0 {
			raw = []byte("null")
		}
		_ = json.Compact(&b, raw)
	}
	for i, s := range doc.Statement {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		sid, _ := json.Marshal(s.Sid)
		effect, _ := json.Marshal(s.Effect)
		member("Sid", sid, true)
		member("Effect", effect, false)
		member("Principal", s.Principal.Raw, false)
		member("Action", s.Action.Raw, false)
		resource, _ := json.Marshal(target.ResourceARN())
		if s.Resource != nil {
			resource = s.Resource.Raw
		}
		member("Resource", resource, false)
		if s.Condition != nil {
			member("Condition", s.Condition.Raw, false)
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.String()
}

// operatorAccount is the operator's own account in the emulator, where it
// assumes an account's role from.
const operatorAccount = "999999999999"

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// account: the identity a LambdaPermissionAccount names, as the operator
// takes it on (sts:AssumeRole with roleArn, sessionName and externalID)
// and checks it (sts:GetCallerIdentity: the role's account must be
// accountID). The role exists if IAM can hold it: the emulator registers
// it, trusting the operator's account, with the external id required.
func (w *worker) account(ctx context.Context, r *dfResult) error {
	var spec v1alpha1.LambdaPermissionAccountSpec
	if err := decode(r, &spec); err != nil {
		return err
	}
	if spec.SessionName == "" && !r.API.Admitted {
		spec.SessionName = "lambda-permission-operator" // the CRD's default
	}
	r.Typed = spec
	r.Go = goAccount(spec)
	switch {
	case spec.DefaultRegion != "" && !regionPattern.MatchString(spec.DefaultRegion):
		r.Lambda = noEndpoint(spec.DefaultRegion)
		return nil
	case spec.RoleARN == "" && !accountIDPattern.MatchString(spec.AccountID):
		r.Lambda = lambdaVerdict{Outcome: lambdaRefused, Op: "GetCallerIdentity", Message: "WrongAccount: no account has the id " + spec.AccountID}
		return nil
	case spec.RoleARN == "":
		r.Lambda = lambdaVerdict{Outcome: lambdaNoCall} // the operator's own identity: where it runs, not the spec
		return nil
	}
	env := w.lambda.env(dfRegion, operatorAccount)
	exists := env.emu.AddRole(emulator.Role{ARN: spec.RoleARN, ExternalID: spec.ExternalID}) == nil ||
		env.emu.AddRole(emulator.Role{ARN: spec.RoleARN}) == nil
	in := &sts.AssumeRoleInput{RoleArn: aws.String(spec.RoleARN), RoleSessionName: aws.String(spec.SessionName), ExternalId: optionalString(spec.ExternalID)}
	out, err := env.sts.AssumeRole(ctx, in)
	if r.Lambda, err = judge("AssumeRole", err); err != nil || r.Lambda.Outcome != lambdaAccepted {
		if !exists && r.Lambda.Outcome == lambdaRefused && strings.HasPrefix(r.Lambda.Message, "AccessDenied") {
			r.Lambda.Outcome = lambdaNotFound // no such role can exist
		}
		return err
	}
	creds := out.Credentials
	cfg := env.cfg.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken))
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if r.Lambda, err = judge("GetCallerIdentity", err); err != nil || r.Lambda.Outcome != lambdaAccepted {
		return err
	}
	if got := aws.ToString(who.Account); got != spec.AccountID {
		r.Lambda = lambdaVerdict{Outcome: lambdaRefused, Op: "GetCallerIdentity",
			Message: fmt.Sprintf("WrongAccount: the role acts in account %s, not accountID %s", got, spec.AccountID)}
	}
	return nil
}

// Disagreements: what two judges, or a judge and Lambda, say differently.
const (
	admittedGoRefuses      = "admitted, Go refuses"
	refusedGoAccepts       = "refused at admission, Go accepts"
	admittedLambdaRefuses  = "admitted, Lambda refuses"
	unpredicted            = "Lambda stores another statement than the operator predicts"
	admittedNoTarget       = "admitted, Lambda has no such target"
	refusedLambdaAccepts   = "refused at admission, Lambda accepts"
	goAcceptsLambdaRefuses = "Go accepts, Lambda refuses"
	goRefusesLambdaAccepts = "Go refuses, Lambda accepts"
	admittedGuardrail      = "admitted, the guardrails refuse"
	guardrailWarning       = "guardrail warning differs from the guardrail"
	admittedNeedsDocument  = "admitted, needs writeStrategy Document"
	documentRefuses        = "Go accepts, Lambda refuses it written whole (writeStrategy Document)"
)

// disagreements lists what r's judges disagree on.
func disagreements(r *dfResult) []string {
	admitted, goOK, lambda := r.API.Admitted, r.Go.Err == nil, r.Lambda.Outcome
	var out []string
	add := func(cond bool, what string) {
		if cond {
			out = append(out, what)
		}
	}
	add(admitted && !goOK, admittedGoRefuses)
	add(!admitted && goOK, refusedGoAccepts)
	add(admitted && lambda == lambdaRefused, admittedLambdaRefuses)
	add(admitted && lambda == lambdaNotFound, admittedNoTarget)
	add(!admitted && lambda == lambdaAccepted, refusedLambdaAccepts)
	add(goOK && lambda == lambdaRefused, goAcceptsLambdaRefuses)
	add(!goOK && lambda == lambdaAccepted, goRefusesLambdaAccepts)
	add(admitted && goOK && r.Go.Guardrail != "", admittedGuardrail)
	if (r.Case.Kind == kindPermission || r.Case.Kind == kindURL) && admitted && goOK {
		warned := ""
		for _, reason := range []string{v1alpha1.ReasonPublicAccessDenied, v1alpha1.ReasonSourceRequired} {
			if slices.ContainsFunc(r.API.Warnings, func(w string) bool { return strings.Contains(w, reason) }) && warned == "" {
				warned = reason
			}
		}
		add(warned != r.Go.Guardrail, guardrailWarning)
	}
	if r.Case.Kind == kindPermission && admitted && goOK {
		add(r.Go.NeedsDocument, admittedNeedsDocument)
	}
	add(goOK && r.Document != nil && r.Document.Outcome == lambdaRefused, documentRefuses)
	add(goOK && r.Lambda.Unpredicted != "", unpredicted)
	return out
}
