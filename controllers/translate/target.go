package translate

import (
	"fmt"
	"regexp"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// regionPattern is a region as Lambda's FunctionName pattern spells one
// (SPEC §2), and the CRDs' region fields.
var regionPattern = regexp.MustCompile(`^(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$`)

// Target is the function, version or alias a spec names (functionName,
// qualifier, region), with the region and account it gives: either may
// still be empty, to be filled from the operator's defaults or a lookup.
func Target(functionName, qualifier, region string) (policy.FunctionRef, error) {
	target, err := policy.ResolveTarget(functionName, qualifier)
	if err != nil {
		return policy.FunctionRef{}, err
	}
	if region != "" && !regionPattern.MatchString(region) {
		return policy.FunctionRef{}, fmt.Errorf("region: %q is not an AWS region such as us-east-2: no Lambda endpoint serves it", region)
	}
	if target.Region != "" && region != "" && target.Region != region {
		return policy.FunctionRef{}, fmt.Errorf("region: %q differs from the region %q in functionName; remove one", region, target.Region)
	}
	return target.WithDefaults(region, ""), nil
}
