//go:build integration

package doctest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// cluster is a control plane with the project's CRDs and admission
// policies, and the Prometheus operator's CRDs when make tools has put
// them in bin/.
type cluster struct {
	client     client.Client
	warnings   *warningLog
	namespaces sync.Map // the namespaces created, by name
	promCRDs   bool
}

// warningLog keeps the API server's warnings until they are taken.
type warningLog struct {
	mu   sync.Mutex
	seen []string
}

func (w *warningLog) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

func (w *warningLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := w.seen
	w.seen = nil
	return seen
}

var (
	clusterOnce  sync.Once
	sharedServer *cluster
	clusterErr   error
	promCRDsDir  = filepath.Join(repo.Root(), "bin", "prometheus-operator-crds")
)

// theCluster starts the control plane once for every test, and stops it
// when they are over.
func theCluster() (*cluster, error) {
	clusterOnce.Do(func() { sharedServer, clusterErr = startCluster() })
	return sharedServer, clusterErr
}

func startCluster() (*cluster, error) {
	logf.SetLogger(logr.Discard())
	env, err := controlplane.New()
	if err != nil {
		return nil, err
	}
	c := &cluster{warnings: &warningLog{}}
	if _, err := os.Stat(promCRDsDir); err == nil {
		env.CRDDirectoryPaths, c.promCRDs = append(env.CRDDirectoryPaths, promCRDsDir), true
	}
	cfg, err := env.Start()
	atExit(func() { _ = env.Stop() })
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	if c.client, err = newClient(cfg, c.warnings); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return c, c.installAdmission(ctx)
}

func newClient(cfg *rest.Config, warnings rest.WarningHandler) (client.Client, error) {
	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), lambdav1alpha1.AddToScheme(scheme)); err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = warnings
	return client.New(cfg, client.Options{Scheme: scheme})
}

// admissionDir holds the admission policies the kustomize install and the
// chart ship; its kustomization.yaml lists them.
var admissionDir = filepath.Join(repo.Root(), "config", "admission")

// installAdmission creates every object of config/admission's resources
// and waits until the API server applies each policy.
func (c *cluster) installAdmission(ctx context.Context) error {
	objs, err := admissionObjects()
	if err != nil {
		return err
	}
	var policies []string
	for _, obj := range objs {
		if err := c.client.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		if strings.HasSuffix(obj.GetKind(), "AdmissionPolicy") {
			policies = append(policies, obj.GetName())
		}
	}
	if err := c.ensureNamespace(ctx, probeNamespace); err != nil {
		return err
	}
	for _, name := range policies {
		if err := c.waitInForce(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func admissionObjects() ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(filepath.Join(admissionDir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, file := range k.Resources {
		some, err := repo.Objects(filepath.Join(admissionDir, file))
		if err != nil {
			return nil, err
		}
		objs = append(objs, some...)
	}
	return objs, nil
}

// ensureNamespace creates a namespace unless this run has.
func (c *cluster) ensureNamespace(ctx context.Context, name string) error {
	if _, done := c.namespaces.Load(name); done {
		return nil
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	c.namespaces.Store(name, true)
	return nil
}
