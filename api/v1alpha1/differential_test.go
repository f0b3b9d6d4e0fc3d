//go:build integration

package v1alpha1_test

// Differential fuzzing of admission (issue 29): specs of the four kinds,
// drawn by a seeded generator (differential_gen_test.go), each put through
// the kube-apiserver (the CRDs and the admission policies of
// config/admission, by server-side dry-run), the operator's Go validation,
// and the Lambda emulator, given the calls the spec leads to
// (differential_oracles_test.go, differential_eval_test.go). Every
// disagreement fails the test unless a row of intendedDisagreements
// (differential_table_test.go) lists it with its reason; the inputs that
// found bugs are kept there as regression cases, run first every time.
//
// The number of generated inputs is FUZZ_ADMISSION_N (all kinds together,
// split evenly), else 5000 under RESILIENCE_SCALE=full (make test-faults),
// else dfDefaultInputs (make test). FUZZ_ADMISSION_SEED changes the seed.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// dfDefaultInputs is make test's budget: 100 per kind, about ten
	// seconds under -race on two cores once the control plane is up.
	dfDefaultInputs = 400
	// dfFullInputs is make test-faults' budget (RESILIENCE_SCALE=full).
	dfFullInputs = 5000
	// dfSeed is the default seed: the number.
	dfSeed = 29
	// dfWorkers run cases at once: the API server and the emulators share
	// the machine's two cores.
	dfWorkers = 4
	// dfShown is how many bugs are printed in full; all are counted.
	dfShown = 40
)

// dfBudget is the number of inputs and the seed of this run.
func dfBudget(t *testing.T) (int, uint64) {
	t.Helper()
	n := dfDefaultInputs
	if os.Getenv("RESILIENCE_SCALE") == "full" {
		n = dfFullInputs
	}
	if v := os.Getenv("FUZZ_ADMISSION_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			t.Fatalf("FUZZ_ADMISSION_N=%q: want a number of inputs", v)
		}
	}
	seed := uint64(dfSeed)
	if v := os.Getenv("FUZZ_ADMISSION_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("FUZZ_ADMISSION_SEED=%q: want a number", v)
		}
	}
	return n, seed
}

// TestDifferentialAdmission: what the API server admits, the operator's Go
// validation accepts and Lambda takes, and what one refuses the others
// refuse, but for the disagreements intendedDisagreements lists.
func TestDifferentialAdmission(t *testing.T) {
	started := time.Now()
	installGuardrailWarnings(t)
	installResourcePolicyValidation(t)
	waitForGuardrailWarnings(t)

	n, seed := dfBudget(t)
	cases := regressionCases(t)
	for i, kind := range dfKinds {
		share := n / len(dfKinds)
		if i < n%len(dfKinds) {
			share++
		}
		cases = append(cases, generate(kind, seed, share)...)
	}
	results := runCases(t, cases)
	if t.Failed() {
		return
	}
	s := summarize(results)
	if path := os.Getenv("FUZZ_ADMISSION_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(strings.Join(s.all, "\n")), 0o600); err != nil {
			t.Error(err)
		}
	}
	for _, b := range s.bugs[:min(len(s.bugs), dfShown)] {
		t.Errorf("%s", b)
	}
	if len(s.bugs) > dfShown {
		t.Errorf("… and %d more disagreements no row of intendedDisagreements lists", len(s.bugs)-dfShown)
	}
	checkRegressions(t, results[:len(dfRegressions)])
	t.Logf("differential admission, seed %d: %d generated inputs, and %d regression cases (inputs that found bugs since fixed), in %v:\n%s",
		seed, n, len(cases)-n, time.Since(started).Round(time.Second), s.table())
}

// waitForGuardrailWarnings waits until the guardrail policy warns, as it
// takes effect a moment after it is created.
func waitForGuardrailWarnings(t *testing.T) {
	t.Helper()
	api, err := newAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	probe := map[string]any{"functionName": "f", "principal": "*", "statementId": "probe"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := api.admit(testContext(t), kindPermission, "probe", probe)
		if err == nil && len(v.Warnings) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guardrail policy never warned: %+v, %v", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// runCases evaluates every case on dfWorkers workers; results are in the
// cases' order, whatever order they ran in.
func runCases(t *testing.T, cases []dfCase) []*dfResult {
	t.Helper()
	results := make([]*dfResult, len(cases))
	next := make(chan int)
	var wg sync.WaitGroup
	for range dfWorkers {
		api, err := newAPIServer()
		if err != nil {
			t.Fatal(err)
		}
		w := &worker{api: api, lambda: newLambdaEndpoint()}
		t.Cleanup(w.lambda.srv.Close)
		wg.Go(func() {
			for i := range next {
				r, err := w.evaluateWithRetries(cases[i])
				if err != nil {
					spec, _ := json.Marshal(cases[i].Spec)
					t.Errorf("%s: %v\n  spec: %s", cases[i].Name, err, spec)
					continue
				}
				results[i] = r
			}
		})
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// evaluateWithRetries retries a case whose judge failed to answer (the API
// server busy): never a refusal.
func (w *worker) evaluateWithRetries(c dfCase) (*dfResult, error) {
	var err error
	for attempt := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var r *dfResult
		r, err = w.evaluate(ctx, c)
		cancel()
		if err == nil {
			return r, nil
		}
		time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
	}
	return nil, err
}

// dfSummary counts a run's inputs, agreements and disagreements.
type dfSummary struct {
	inputs, admitted, agreed map[string]int
	byRow                    map[string]int
	bugs                     []string
	bugsByKind               map[string]int
	all                      []string // every disagreement, intended or not (FUZZ_ADMISSION_REPORT)
}

func summarize(results []*dfResult) *dfSummary {
	s := &dfSummary{inputs: map[string]int{}, admitted: map[string]int{}, agreed: map[string]int{},
		byRow: map[string]int{}, bugsByKind: map[string]int{}}
	for _, r := range results {
		kind := r.Case.Kind
		s.inputs[kind]++
		if r.API.Admitted {
			s.admitted[kind]++
		}
		found := disagreements(r)
		if len(found) == 0 {
			s.agreed[kind]++
		}
		var unlisted []string
		for _, what := range found {
			row := intendedFor(r, what)
			if row == nil {
				unlisted = append(unlisted, what)
				continue
			}
			s.byRow[row.ID]++
			s.all = append(s.all, "intended "+row.ID+": "+report(r, []string{what}))
		}
		if len(unlisted) > 0 {
			s.bugsByKind[kind]++
			s.bugs = append(s.bugs, report(r, unlisted))
			s.all = append(s.all, "BUG: "+report(r, unlisted))
		}
	}
	return s
}

// report describes a bug: the disagreements, each judge's answer, and the
// input as a regression case to paste into dfRegressions.
func report(r *dfResult, unlisted []string) string {
	spec, _ := json.Marshal(r.Case.Spec)
	goSays := "accepts"
	if r.Go.Err != nil {
		goSays = "refuses: " + r.Go.Err.Error()
	}
	if r.Go.Guardrail != "" {
		goSays += " (guardrail " + r.Go.Guardrail + ")"
	}
	apiSays := "admits"
	if !r.API.Admitted {
		var causes []string
		for _, c := range r.API.Causes {
			causes = append(causes, strings.TrimPrefix(c.Field+": ", ": ")+c.Message)
		}
		apiSays = "refuses: " + strings.Join(causes, "; ")
	}
	if len(r.API.Warnings) > 0 {
		apiSays += fmt.Sprintf(" (warnings %q)", r.API.Warnings)
	}
	document := ""
	if r.Document != nil {
		document = "\n  Lambda, the statement written whole: " + r.Document.String()
	}
	if r.Lambda.Unpredicted != "" {
		document += "\n  " + r.Lambda.Unpredicted
	}
	return fmt.Sprintf("%s %s: %s\n  API server %s\n  Go %s\n  Lambda %s%s\n  regression case: {Name: %q, Kind: %q, Spec: `%s`},",
		r.Case.Kind, r.Case.Name, strings.Join(unlisted, "; "), clip(apiSays), clip(goSays), clip(r.Lambda.String()), clip(document),
		r.Case.Name, r.Case.Kind, spec)
}

// clip shortens the long answers of long inputs.
func clip(s string) string {
	if r := []rune(s); len(r) > 600 {
		return string(r[:600]) + fmt.Sprintf("…(%d more characters)", len(r)-600)
	}
	return s
}

// table is the run's summary: per kind, the inputs, how many the API
// server admitted, how many every judge agreed on, the intended
// disagreements by row, and the bugs.
func (s *dfSummary) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %7s %9s %7s %9s %5s\n", "kind", "inputs", "admitted", "agreed", "intended", "bugs")
	total := [5]int{}
	for _, kind := range dfKinds {
		intended := 0
		for _, row := range intendedDisagreements {
			if row.Kind == kind {
				intended += s.byRow[row.ID]
			}
		}
		row := [5]int{s.inputs[kind], s.admitted[kind], s.agreed[kind], intended, s.bugsByKind[kind]}
		fmt.Fprintf(&b, "%-28s %7d %9d %7d %9d %5d\n", kind, row[0], row[1], row[2], row[3], row[4])
		for i := range total {
			total[i] += row[i]
		}
	}
	fmt.Fprintf(&b, "%-28s %7d %9d %7d %9d %5d\n", "all", total[0], total[1], total[2], total[3], total[4])
	b.WriteString("(agreed: inputs on which every judge and Lambda agree; intended: disagreements a row lists, an input\n" +
		"may have several; bugs: inputs with a disagreement no row lists)\n")
	b.WriteString("intended disagreements, by row of intendedDisagreements:\n")
	for _, row := range intendedDisagreements {
		fmt.Fprintf(&b, "  %6d  %s\n", s.byRow[row.ID], row.ID)
	}
	return b.String()
}

// dfRow is a disagreement the project intends, with its reason.
type dfRow struct {
	ID   string
	Kind string   // the kind it applies to
	What []string // the disagreements it covers
	// Cause, for a refusal at admission (refusedGoAccepts,
	// refusedLambdaAccepts), says whether the row explains one of the API
	// server's reasons: the refusal is intended when rows of its kind
	// explain every reason, and counted under the first reason's row.
	Cause func(r *dfResult, c apiCause) bool
	// GoCause, for a refusal by the Go validation (admittedGoRefuses,
	// goRefusesLambdaAccepts), says whether the row explains one of its
	// errors, as Cause does the API server's.
	GoCause func(r *dfResult, err error) bool
	// Match says whether the row explains any other disagreement of r
	// (and, with Cause or GoCause, narrows the refusals it explains).
	Match  func(r *dfResult) bool
	Reason string
}

// intendedFor is the row that lists what r's judges disagree on, or nil.
func intendedFor(r *dfResult, what string) *dfRow {
	switch what {
	case refusedGoAccepts, refusedLambdaAccepts:
		return everyReason(r, what, len(r.API.Causes), func(row *dfRow, i int) bool {
			return row.Cause != nil && row.Cause(r, r.API.Causes[i])
		})
	case admittedGoRefuses, goRefusesLambdaAccepts:
		errs := leafErrors(r.Go.Err)
		return everyReason(r, what, len(errs), func(row *dfRow, i int) bool {
			return row.GoCause != nil && row.GoCause(r, errs[i])
		})
	}
	// Any other disagreement: a row that matches r, or one without
	// predicates.
	return findRow(r, what, func(row *dfRow) bool { return row.Match != nil || row.Cause == nil && row.GoCause == nil })
}

// everyReason is the row of the first of n reasons when rows explain each
// one, else nil.
func everyReason(r *dfResult, what string, n int, explains func(row *dfRow, i int) bool) *dfRow {
	var first *dfRow
	for i := range n {
		row := findRow(r, what, func(row *dfRow) bool { return explains(row, i) })
		if row == nil {
			return nil
		}
		if first == nil {
			first = row
		}
	}
	return first
}

// leafErrors are err's errors, joined ones taken apart.
func leafErrors(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range joined.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func findRow(r *dfResult, what string, fits func(*dfRow) bool) *dfRow {
	for i := range intendedDisagreements {
		row := &intendedDisagreements[i]
		if row.Kind == r.Case.Kind && slices.Contains(row.What, what) && fits(row) && (row.Match == nil || row.Match(r)) {
			return row
		}
	}
	return nil
}

// regressionCases are dfRegressions, parsed.
func regressionCases(t *testing.T) []dfCase {
	t.Helper()
	out := make([]dfCase, 0, len(dfRegressions))
	for _, r := range dfRegressions {
		var spec map[string]any
		if err := json.Unmarshal([]byte(r.Spec), &spec); err != nil {
			t.Fatalf("regression case %s: %v", r.Name, err)
		}
		if !slices.Contains(dfKinds, r.Kind) {
			t.Fatalf("regression case %s: kind %q", r.Name, r.Kind)
		}
		out = append(out, dfCase{Name: r.Name, Kind: r.Kind, Spec: spec})
	}
	return out
}

// dfRegression is an input that found a bug, kept: a name (also its
// object's), its kind, its spec as JSON, and the verdicts it must now get.
type dfRegression struct {
	Name, Kind, Spec string
	Want             dfWant
}

// dfWant is what the API server, the Go validation and Lambda must say of
// a regression case: takes (+1), refuses (-1) or either (0). Lambda takes
// what it accepts or has nothing to call for.
type dfWant struct{ API, Go, Lambda int }

var (
	wantAccepted = dfWant{1, 1, 1}
	wantRefused  = dfWant{-1, -1, -1}
)

// checkRegressions holds each regression case to its verdicts, besides the
// absence of unlisted disagreements that every input is held to.
func checkRegressions(t *testing.T, results []*dfResult) {
	t.Helper()
	says := func(takes bool) int {
		if takes {
			return 1
		}
		return -1
	}
	for i, r := range results {
		want := dfRegressions[i].Want
		got := dfWant{says(r.API.Admitted), says(r.Go.Err == nil), says(r.Lambda.Outcome == lambdaAccepted || r.Lambda.Outcome == lambdaNoCall)}
		if want.API != 0 && want.API != got.API || want.Go != 0 && want.Go != got.Go || want.Lambda != 0 && want.Lambda != got.Lambda {
			t.Errorf("regression case %s: want %+v (1 takes it, -1 refuses it), got %+v: API server %q, Go %v, Lambda %s",
				r.Case.Name, want, got, clip(r.API.Message), r.Go.Err, clip(r.Lambda.String()))
		}
	}
}
