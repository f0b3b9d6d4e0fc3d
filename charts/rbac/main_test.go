//go:build integration

package rbac

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

var (
	root     = repo.Root()
	chartDir = filepath.Join(root, "charts", "lambda-permission-operator")

	// What every test shares: one control plane, an admin client of it and
	// an admin kubeconfig for helm, the operator binary, the API server's
	// audit log, and the Lambda emulator's address.
	suite           *harness.Suite
	scheme          *k8sruntime.Scheme
	kube            client.Client
	clientset       *kubernetes.Clientset
	adminKubeconfig string
	helmBinary      string
	managerBinary   string
	auditLogPath    string
	workDir         string
	lambdaFront     = &emulatorFront{}
	lambdaURL       string
)

// TestMain starts a control plane without the CRDs (the chart installs
// them, as it does in a cluster), with an audit log, and builds the
// operator.
func TestMain(m *testing.M) {
	harness.Main(m, harness.Options{Name: "charts/rbac", ConfigureAPIServer: configureAPIServer,
		AdminUser: "charts-rbac-admin", BuildManager: true}, setUp)
}

// auditPolicy records every request a ServiceAccount makes (who, verb,
// resource, response code) and nothing else: the operator's requests, not
// the test's (an admin certificate).
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  userGroups: ["system:serviceaccounts"]
- level: None
`

func configureAPIServer(env *envtest.Environment, dir string) error {
	policyPath := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policyPath, []byte(auditPolicy), 0o600); err != nil {
		return err
	}
	auditLogPath = filepath.Join(dir, "audit.log")
	// envtest runs kube-apiserver with --authorization-mode=RBAC and gives
	// the test a system:masters user; TestUnprivilegedIsRefused checks that
	// a token without bindings is refused. OwnerReferencesPermissionEnforcement
	// (on in OpenShift, off by default in kube-apiserver) is what the
	// <kind>/finalizers rules are for: without it nothing would check them.
	env.ControlPlane.GetAPIServer().Configure().
		Set("audit-policy-file", policyPath).
		Set("audit-log-path", auditLogPath).
		Append("enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
	return nil
}

func setUp(s *harness.Suite) error {
	suite, scheme, kube, adminKubeconfig, managerBinary, workDir = s, s.Scheme, s.Client, s.Kubeconfig, s.ManagerBinary, s.Dir
	// helm keeps its configuration, cache and data out of $HOME.
	for _, v := range []string{"HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"} {
		_ = os.Setenv(v, filepath.Join(workDir, v))
	}
	if helmBinary = os.Getenv("HELM"); helmBinary == "" {
		helmBinary = filepath.Join(root, "bin", "helm")
	}
	if _, err := os.Stat(helmBinary); err != nil {
		return fmt.Errorf("no helm at %s: run `make tools` (hack/tools/build.sh builds it), or set HELM", helmBinary)
	}
	var err error
	if clientset, err = kubernetes.NewForConfig(s.Config); err != nil {
		return err
	}

	// The Lambda emulator on loopback, at one address for the whole test
	// (the chart's values name it); each manager run gets a fresh emulator
	// behind it.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: lambdaFront, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	s.Cleanup(func() { _ = server.Close() })
	lambdaURL = "http://" + listener.Addr().String()
	return nil
}

// emulatorFront serves the current emulator.
type emulatorFront struct {
	current atomic.Pointer[emulator.Server]
}

func (f *emulatorFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s := f.current.Load(); s != nil {
		s.ServeHTTP(w, r)
		return
	}
	http.Error(w, "no emulator", http.StatusServiceUnavailable)
}

// --- helm ---

// helm runs bin/helm as the admin and returns its standard output.
func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, helmBinary, append(args, "--kubeconfig", adminKubeconfig)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// --- the ServiceAccount's credentials ---

// tokenKubeconfig writes a kubeconfig whose only credential is a token of
// the ServiceAccount, from the TokenRequest API (as the kubelet gets the
// token it mounts into the pod): no client certificate, no admin.
func tokenKubeconfig(t *testing.T, namespace, serviceAccount string) string {
	t.Helper()
	token, err := clientset.CoreV1().ServiceAccounts(namespace).CreateToken(t.Context(), serviceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}},
		metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for ServiceAccount %s/%s: %v", namespace, serviceAccount, err)
	}
	server := suite.Config.Host
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	config := clientcmdapi.NewConfig()
	config.Clusters["envtest"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: suite.Config.CAData}
	config.AuthInfos[serviceAccount] = &clientcmdapi.AuthInfo{Token: token.Status.Token}
	config.Contexts[serviceAccount] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: serviceAccount}
	config.CurrentContext = serviceAccount
	path := filepath.Join(t.TempDir(), serviceAccount+".kubeconfig")
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// --- the operator's log ---

// lineLog keeps the lines a process writes, for the test to wait for.
type lineLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
}

// find returns the first line that contains text once escaped quotes are
// unescaped: the operator logs JSON, client-go's klog logs quoted values.
func (l *lineLog) find(text string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range append(l.lines, string(l.partial)) {
		if strings.Contains(unescape(line), text) {
			return line, true
		}
	}
	return "", false
}

// count counts the lines find would match.
func (l *lineLog) count(text string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range append(l.lines, string(l.partial)) {
		if strings.Contains(unescape(line), text) {
			n++
		}
	}
	return n
}

// matching returns every line that contains text, case-insensitively.
func (l *lineLog) matching(text string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []string
	for _, line := range append(l.lines, string(l.partial)) {
		if strings.Contains(strings.ToLower(line), strings.ToLower(text)) {
			found = append(found, line)
		}
	}
	return found
}

func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := append(l.lines, string(l.partial))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func unescape(line string) string {
	for strings.Contains(line, `\"`) {
		line = strings.ReplaceAll(line, `\\`, `\`)
		line = strings.ReplaceAll(line, `\"`, `"`)
	}
	return line
}

// --- the audit log ---

// request is one request a ServiceAccount made, as the audit log has it.
type request struct {
	user, verb, group, resource, namespace string // resource/subresource
	code                                   int
}

// auditOffset is where the audit log ends now: what a run adds comes after.
func auditOffset(t *testing.T) int64 {
	t.Helper()
	info, err := os.Stat(auditLogPath)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	} else if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// requestsSince reads the requests logged after offset.
func requestsSince(t *testing.T, offset int64) []request {
	t.Helper()
	f, err := os.Open(auditLogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var requests []request
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	for scanner.Scan() {
		var event struct {
			Verb string `json:"verb"`
			User struct {
				Username string `json:"username"`
			} `json:"user"`
			ObjectRef *struct {
				Resource    string `json:"resource"`
				Subresource string `json:"subresource"`
				APIGroup    string `json:"apiGroup"`
				Namespace   string `json:"namespace"`
			} `json:"objectRef"`
			ResponseStatus *struct {
				Code int `json:"code"`
			} `json:"responseStatus"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &event); err != nil {
			t.Fatalf("audit log: %v", err)
		}
		if event.ObjectRef == nil {
			continue // discovery and other non-resource requests
		}
		r := request{user: event.User.Username, verb: event.Verb, group: event.ObjectRef.APIGroup,
			resource: event.ObjectRef.Resource, namespace: event.ObjectRef.Namespace}
		if event.ObjectRef.Subresource != "" {
			r.resource += "/" + event.ObjectRef.Subresource
		}
		if event.ResponseStatus != nil {
			r.code = event.ResponseStatus.Code
		}
		requests = append(requests, r)
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return requests
}
