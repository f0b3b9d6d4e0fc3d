package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// Shards: several instances of the operator in one cluster, each
// reconciling the objects its --watch-label-selector selects, as Flux's
// controllers shard (the label is lambdav1alpha1.ShardLabel). A shard
// caches only its own LambdaPermissions and LambdaFunctionURLPermissions,
// the many; it reads every LambdaResourcePolicy and LambdaPermissionAccount,
// the few, and reconciles only its own of those.

// leaderElectionID is the Lease of the operator without shards.
const leaderElectionID = "lambda-permission-operator.permissions.dev"

// ParseShard parses --watch-label-selector: nil when it is empty (every
// object is this instance's).
func ParseShard(selector string) (labels.Selector, error) {
	if strings.TrimSpace(selector) == "" {
		return nil, nil
	}
	return labels.Parse(selector)
}

// ShardCache configures the manager's cache for shard (nil: none): its
// LambdaPermissions and LambdaFunctionURLPermissions only. Every shard
// reads every LambdaPermissionAccount, the configuration each needs, and
// every LambdaResourcePolicy, so that a shard knows a policy another owns
// (engine.Settings.Shard).
func ShardCache(shard labels.Selector) map[client.Object]cache.ByObject {
	if shard == nil {
		return nil
	}
	return map[client.Object]cache.ByObject{
		&lambdav1alpha1.LambdaPermission{}:            {Label: shard},
		&lambdav1alpha1.LambdaFunctionURLPermission{}: {Label: shard},
	}
}

// LeaderElectionID names the Lease the replicas of one instance elect their
// leader with: the operator's own without a shard, and one per selector
// otherwise (its hash: a selector is no valid name), so that the replicas of
// a shard share one and no shard waits for another's.
func LeaderElectionID(shard labels.Selector) string {
	if shard == nil {
		return leaderElectionID
	}
	sum := sha256.Sum256([]byte(shard.String()))
	return "lambda-permission-operator-" + hex.EncodeToString(sum[:4]) + ".permissions.dev"
}

// inShard has r reconcile only the objects of its kind that shard selects.
// It is for the kinds every shard reads whole: their watches and the
// requests mapped to them name every shard's objects.
func inShard[T client.Object](reader client.Reader, shard labels.Selector, newObject func() T, r reconcile.Reconciler) reconcile.Reconciler {
	if shard == nil {
		return r
	}
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		obj := newObject()
		if err := reader.Get(ctx, req.NamespacedName, obj); err == nil && !shard.Matches(labels.Set(obj.GetLabels())) {
			return reconcile.Result{}, nil // another shard's
		}
		return r.Reconcile(ctx, req)
	})
}

// shardLabels are the labels of from that shard reads, each key it reads
// mapped to from's value or, when from lacks it, to nil: what an object
// needs, besides its own labels, to be in from's shard wherever shard
// looks. None without a shard.
func shardLabels(shard labels.Selector, from metav1.Object) map[string]*string {
	if shard == nil {
		return nil
	}
	requirements, _ := shard.Requirements()
	values := map[string]*string{}
	for _, r := range requirements {
		if v, ok := from.GetLabels()[r.Key()]; ok {
			values[r.Key()] = &v
		} else {
			values[r.Key()] = nil
		}
	}
	return values
}

// followShard gives to the labels of from that shard reads (shardLabels),
// so that to is reconciled by from's shard.
func followShard(shard labels.Selector, from, to metav1.Object) {
	values := shardLabels(shard, from)
	if len(values) == 0 {
		return
	}
	set := to.GetLabels()
	if set == nil {
		set = map[string]string{}
	}
	for key, v := range values {
		if v == nil {
			delete(set, key)
		} else {
			set[key] = *v
		}
	}
	to.SetLabels(set)
}

// shardLabelsPatch is a merge patch that makes to's labels follow from's
// shard, for an object this shard's cache cannot see yet.
func shardLabelsPatch(shard labels.Selector, from metav1.Object) (client.Patch, error) {
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": shardLabels(shard, from)}})
	if err != nil {
		return nil, fmt.Errorf("the shard labels' patch: %w", err)
	}
	return client.RawPatch(types.MergePatchType, data), nil
}
