#!/usr/bin/env bash
# `make e2e`: a real single-node Kubernetes 1.37 cluster on this machine, all
# built from source (hack/control-plane/build.sh and build-node.sh): etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, containerd 2 with
# runc and the CNI bridge, kubelet and kube-proxy. It imports the locally
# built sandbox ("pause") image and runs a trivial pod to Ready; then imports
# the operator's image (bin/image, `make image`; E2E_OPERATOR_IMAGE), installs
# the chart with helm, AWS pointed at the Lambda emulator on the host, and
# checks, under the chart's RBAC:
#  1. every sample converges: my-function's (the operator's own account,
#     Statements) and orders-api's (account 210987654321, LambdaPermissionAccount
#     orders: Document, through an assumed role), an Allow and a Deny;
#  2. leader handover: replicas=2, the Lease holder's pod deleted, another pod
#     takes the Lease, and a LambdaPermission created afterwards converges;
#  3. helm upgrade to a new image tag: new pods Ready, every policy unchanged
#     and no policy write while the new leader resyncs every object;
#  4. helm uninstall leaves the four CRDs and every LambdaPermission, with its
#     finalizer (no operator is left to act on it).
#
# State and logs under bin/e2e/ (E2E_DIR); everything it started is stopped,
# and its network devices, mounts and iptables rules removed, on exit.
# E2E_KEEP=1 leaves the cluster running until Ctrl-C (KUBECONFIG is printed).
# Needs root (CI runs as root); installs iptables from Debian when missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=$("$root/hack/control-plane/build.sh")
"$root/hack/control-plane/build-node.sh" >/dev/null
export PATH=$bin:$PATH

e2e=${E2E_DIR:-$root/bin/e2e}
node=e2e
pod_cidr=10.244.0.0/24
gateway=10.244.0.1
service_cidr=10.96.0.0/16
# The host's address on its default route: the apiserver advertises it, so
# that pods reach the apiserver (kube-proxy's DNAT of the kubernetes Service).
host_ip=$(ip -4 -o addr show dev "$(ip -4 route show default | awk '{print $5; exit}')" | awk '{sub("/.*", "", $4); print $4; exit}')
run=$e2e/run
logs=$e2e/logs
log() { echo "e2e: $*" >&2; }

[[ $(id -u) == 0 ]] || { log "needs root (containerd, kubelet)"; exit 1; }
if ! command -v iptables >/dev/null || ! command -v nft >/dev/null; then
	log "installing iptables and nftables (kube-proxy, CNI portmap and masquerade)"
	apt-get install -y iptables nftables >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && apt-get install -y iptables nftables >/dev/null; }
fi

# Leftovers of an interrupted run first.
if [[ -d $e2e ]]; then
	grep " $e2e/" /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$e2e"
fi
mkdir -p "$run" "$logs" "$e2e/pki" "$e2e/images" "$e2e/cni-conf"

pids=()
start() { # name command...: runs in the background, logging to logs/name.log
	local name=$1
	shift
	"$@" >"$logs/$name.log" 2>&1 &
	pids+=($!)
	echo $! >"$run/$name.pid"
	log "started $name (pid $!)"
}
iptables-save >"$e2e/iptables.before"
ip6tables-save >"$e2e/ip6tables.before" 2>/dev/null || true

cleanup() {
	local rc=$?
	set +e
	log "cleaning up"
	if [[ -S $run/containerd.sock ]]; then
		crictl --runtime-endpoint "unix://$run/containerd.sock" rmp -fa >/dev/null 2>&1
	fi
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
	for pid in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$pid" 2>/dev/null
	done
	# Shims of this containerd (their command line names its socket).
	for pid in $(pgrep -f -- "-address $run/containerd.sock" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
	grep " $e2e/" /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
	for ns in $(ip netns list 2>/dev/null | awk '/^cni-/{print $1}'); do ip netns delete "$ns"; done
	ip link delete cni0 2>/dev/null
	ip link delete kube-ipvs0 2>/dev/null
	# The kubelet, kube-proxy and the CNI plugins add iptables (nf_tables)
	# rules, chains and tables: back to exactly what was there before.
	nft flush ruleset
	[[ -s $e2e/iptables.before ]] && iptables-restore <"$e2e/iptables.before"
	[[ -s $e2e/ip6tables.before ]] && ip6tables-restore <"$e2e/ip6tables.before"
	log "logs in ${logs#"$root"/}"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Images: the sandbox image and the trivial pod's, built here.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$e2e/images/pause" ./hack/e2e/pause
pause_image=registry.k8s.io/pause:e2e
"$root/hack/e2e/mkimage.sh" "$e2e/images/pause.tar" "$pause_image" "$e2e/images/pause"
"$root/hack/e2e/mkimage.sh" "$e2e/images/hello.tar" docker.io/library/hello:e2e "$e2e/images/pause" -hello

# --- PKI: the service-account signing key, and static tokens for every
# client (the apiserver generates its own self-signed serving certificate).
openssl genrsa -out "$e2e/pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$e2e/pki/sa.key" -pubout -out "$e2e/pki/sa.pub" 2>/dev/null
tokens=$e2e/pki/tokens.csv
{
	echo "admin-token,admin,admin,system:masters"
	echo "kcm-token,system:kube-controller-manager,kcm"
	echo "scheduler-token,system:kube-scheduler,scheduler"
	echo "kubelet-token,system:node:$node,kubelet,system:nodes"
	echo "proxy-token,system:kube-proxy,proxy"
} >"$tokens"
kubeconfig() { # name token
	cat >"$e2e/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "https://$host_ip:6443", insecure-skip-tls-verify: true}
users:
- name: $1
  user: {token: $2}
contexts:
- name: e2e
  context: {cluster: e2e, user: $1}
current-context: e2e
EOF
}
for c in admin kcm scheduler kubelet proxy; do kubeconfig $c $c-token; done
export KUBECONFIG=$e2e/admin.kubeconfig

# --- Control plane.
start etcd etcd --data-dir "$e2e/etcd" --listen-client-urls http://127.0.0.1:12379 \
	--advertise-client-urls http://127.0.0.1:12379 --listen-peer-urls http://127.0.0.1:12380 --unsafe-no-fsync
start kube-apiserver kube-apiserver --etcd-servers http://127.0.0.1:12379 \
	--bind-address 0.0.0.0 --advertise-address "$host_ip" --secure-port 6443 --cert-dir "$e2e/pki/apiserver" \
	--token-auth-file "$tokens" --authorization-mode Node,RBAC \
	--service-account-issuer https://kubernetes.default.svc --service-account-key-file "$e2e/pki/sa.pub" \
	--service-account-signing-key-file "$e2e/pki/sa.key" --service-cluster-ip-range "$service_cidr" \
	--allow-privileged --kubelet-preferred-address-types InternalIP
for _ in $(seq 120); do kubectl get --raw /readyz >/dev/null 2>&1 && break; sleep 1; done
kubectl get --raw /readyz >/dev/null
log "kube-apiserver ready"
start kube-controller-manager kube-controller-manager --kubeconfig "$e2e/kcm.kubeconfig" \
	--authentication-kubeconfig "$e2e/kcm.kubeconfig" --authorization-kubeconfig "$e2e/kcm.kubeconfig" \
	--leader-elect=false --service-account-private-key-file "$e2e/pki/sa.key" \
	--root-ca-file "$e2e/pki/apiserver/apiserver.crt" --use-service-account-credentials \
	--service-cluster-ip-range "$service_cidr" --bind-address 127.0.0.1 --secure-port 10257
start kube-scheduler kube-scheduler --kubeconfig "$e2e/scheduler.kubeconfig" \
	--authentication-kubeconfig "$e2e/scheduler.kubeconfig" --authorization-kubeconfig "$e2e/scheduler.kubeconfig" \
	--leader-elect=false --bind-address 127.0.0.1 --secure-port 10259

# --- Node: containerd (config version 3, containerd 2.x), CNI, kubelet.
cat >"$e2e/cni-conf/10-e2e.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "e2e",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$pod_cidr", "gateway": "$gateway"}]],
              "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$e2e/cni-ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
cat >"$e2e/containerd.toml" <<EOF
version = 3
root = "$e2e/containerd/root"
state = "$run/containerd"
[grpc]
  address = "$run/containerd.sock"
[ttrpc]
  address = "$run/containerd.sock.ttrpc"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$pause_image"
[plugins.'io.containerd.cri.v1.runtime']
  # This machine's root lacks CAP_SYS_RESOURCE (CapEff 000001fffeffffff): no
  # process may lower its oom_score_adj, and runc fails on the sandbox's -998
  # ("nsexec: failed to update /proc/self/oom_score_adj: Permission
  # denied"). Clamp every container's to containerd's own (0).
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "$bin/runc"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["$bin/cni"]
    conf_dir = "$e2e/cni-conf"
EOF
start containerd containerd --config "$e2e/containerd.toml"
for _ in $(seq 60); do ctr --address "$run/containerd.sock" version >/dev/null 2>&1 && break; sleep 0.5; done
ctr --address "$run/containerd.sock" version >/dev/null
ctrk8s() { ctr --address "$run/containerd.sock" --namespace k8s.io "$@"; }
for img in "$e2e"/images/*.tar ${E2E_IMAGES:-}; do
	ctrk8s images import --local "$img" >/dev/null
done
log "containerd ready; images: $(ctrk8s images ls -q | tr '\n' ' ')"

cat >"$e2e/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$run/containerd.sock
# cgroup v1 (this machine mounts v1 hierarchies); Kubernetes 1.35+ refuses it
# unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
# Without CAP_SYS_RESOURCE (see containerd.toml) the kubelet cannot lower its
# own oom_score_adj (default -999).
oomScoreAdj: 0
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
staticPodPath: ""
resolvConf: /etc/resolv.conf
# A development machine's disk is shared: never evict for disk pressure.
evictionHard: {memory.available: "100Mi", nodefs.available: "0%", imagefs.available: "0%", nodefs.inodesFree: "0%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
start kubelet kubelet --config "$e2e/kubelet.yaml" --kubeconfig "$e2e/kubelet.kubeconfig" \
	--root-dir "$e2e/kubelet" --hostname-override "$node" --node-ip "$host_ip" \
	--cert-dir "$e2e/pki/kubelet" -v 2
start kube-proxy kube-proxy --kubeconfig "$e2e/proxy.kubeconfig" --hostname-override "$node" \
	--cluster-cidr "$pod_cidr" --proxy-mode iptables --bind-address "$host_ip" \
	--metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256

log "waiting for node $node to be Ready"
for _ in $(seq 120); do
	kubectl get node "$node" >/dev/null 2>&1 && break
	for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { log "a component exited: see $logs"; exit 1; }; done
	sleep 1
done
kubectl wait --for=condition=Ready "node/$node" --timeout 120s
kubectl get node -o wide

# --- A trivial pod to Ready: the hello image, readiness by HTTP.
for _ in $(seq 60); do kubectl get serviceaccount default >/dev/null 2>&1 && break; sleep 1; done
kubectl apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hello, namespace: default}
spec:
  containers:
  - name: hello
    image: docker.io/library/hello:e2e
    imagePullPolicy: Never
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
EOF
kubectl wait --for=condition=Ready pod/hello --timeout 120s ||
	{ kubectl describe pod hello | tail -n 15; exit 1; }
kubectl get pod hello -o wide
pod_ip=$(kubectl get pod hello -o jsonpath='{.status.podIP}')
log "pod hello Ready at $pod_ip; from the host: $(curl -fsS "http://$pod_ip:8080/" 2>&1)"

# --- The operator: its image (make image) imported, the chart installed by
# helm, AWS pointed at the Lambda emulator on the host, which pods reach at
# the CNI bridge's gateway; the samples of my-function converge.
image_tar=${E2E_OPERATOR_IMAGE:-$root/bin/image/lambda-permission-operator.tar}
if [[ ! -f $image_tar ]]; then
	log "building the operator's image (make image)"
	make -C "$root" image >"$logs/image.log" 2>&1
fi
ctrk8s images import --local "$image_tar" >/dev/null
image_ref=$(tar -xOf "$image_tar" manifest.json | sed -n 's/.*"RepoTags":\["\([^"]*\)".*/\1/p')
log "imported $image_ref"
"$root/hack/tools/build.sh" >/dev/null
go build -o "$e2e/lambda-emulator" ./hack/lambda-emulator
# Two accounts, as `make demo` (hack/demo) has them: the operator's own
# (123456789012: my-function, written statement by statement), and 210987654321,
# declared by the sample LambdaPermissionAccount orders (writeStrategy
# Document), whose role the operator assumes from its own account.
region=us-east-2 account=123456789012
orders_account=210987654321 orders_key=AKIAE2EORDERSACCOUNT
orders_role=arn:aws:iam::$orders_account:role/lambda-permission-operator
start lambda-emulator "$e2e/lambda-emulator" --addr "$gateway:9001" --region $region --account-id $account \
	--access-key "$orders_key=$orders_account" \
	--role "$orders_role,externalId=lambda-permission-operator-demo,trust=$account"
emulator=http://$gateway:9001
for _ in $(seq 50); do curl -s -o /dev/null "$emulator/" && break; sleep 0.2; done
# The emulator takes the account from the access key of the request's
# SigV4 Authorization header (the signature is not checked).
lambda() { # account curl-arguments...: a Lambda API call in that account
	local auth=()
	[[ $1 == "$orders_account" ]] &&
		auth=(-H "Authorization: AWS4-HMAC-SHA256 Credential=$orders_key/20260101/$region/lambda/aws4_request, SignedHeaders=host, Signature=e2e")
	shift
	curl -fsS "${auth[@]}" "$@"
}
create_function() { # account name
	lambda "$1" -o /dev/null -X POST "$emulator/2015-03-31/functions" -H 'Content-Type: application/json' \
		-d '{"FunctionName":"'"$2"'","Runtime":"python3.12","Role":"arn:aws:iam::'"$1"':role/e2e","Handler":"index.handler","Code":{"ZipFile":"ZTJl"}}'
}
policy() { # account name: the function's policy document, statements sorted by Sid
	lambda "$1" "$emulator/2015-03-31/functions/$2/policy" | jq -S '.Policy | fromjson | .Statement |= sort_by(.Sid)'
}
functions=("$account my-function" "$orders_account orders-api")
for f in "${functions[@]}"; do create_function $f; done

# wait_until what seconds command...: polls command every second until it
# succeeds; after seconds, names what was not reached and fails.
wait_until() {
	local what=$1 timeout=$2 deadline=$((SECONDS + $2))
	shift 2
	until "$@"; do
		((SECONDS < deadline)) || { log "FAIL: not reached within ${timeout}s: $what"; return 1; }
		sleep 1
	done
}
cat >"$e2e/values.yaml" <<EOF
region: $region
image:
  repository: ${image_ref%:*}
  tag: ${image_ref##*:}
  pullPolicy: Never
extraEnv:
  - {name: AWS_ENDPOINT_URL_LAMBDA, value: "$emulator"}
  - {name: AWS_ENDPOINT_URL_STS, value: "$emulator"}
  - {name: AWS_ACCESS_KEY_ID, value: e2e}
  - {name: AWS_SECRET_ACCESS_KEY, value: e2e}
  - {name: AWS_EC2_METADATA_DISABLED, value: "true"}
EOF
ns=lperm
selector=app.kubernetes.io/instance=lperm,app.kubernetes.io/name=lambda-permission-operator
lease=lambda-permission-operator.permissions.dev # main.go's LeaderElectionID
operator_logs() {
	kubectl -n $ns get pods,lease -o wide
	kubectl -n $ns describe pods | tail -n 25
	kubectl -n $ns logs -l $selector --tail 30 --prefix
	kubectl get lambdapermissions,lambdapermissionaccounts -o wide
}
helm() { "$root/bin/helm" "$@" >>"$logs/helm.log"; } # its notes: not for the console
fail() { log "FAIL: $*"; operator_logs; exit 1; }
# The namespace enforces the restricted Pod Security Standard, as a
# hardened cluster's would: the chart's pod must pass it to run at all.
kubectl create namespace $ns
kubectl label namespace $ns pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest
helm install lperm charts/lambda-permission-operator --namespace $ns \
	--values "$e2e/values.yaml" --wait --timeout 180s || fail "helm install (in a namespace enforcing restricted)"
kubectl -n $ns get pods -o wide

step_t=$SECONDS
# --- 1. Every sample converges: my-function's (Statements, the operator's own
# account) and orders-api's (LambdaPermissionAccount orders: Document, through
# the assumed role), an Allow and a Deny with a condition.
kubectl apply -k config/samples
kubectl wait --for=condition=Ready lambdapermissions --all --timeout 120s ||
	fail "every sample LambdaPermission Ready"
kubectl wait --for=condition=Ready lambdapermissionaccount/orders --timeout 30s ||
	fail "LambdaPermissionAccount orders Ready (its role assumed)"
kubectl get lambdapermissions
has_statement() { # account function sid [effect]: the function's policy holds it
	policy "$1" "$2" | jq -e --arg sid "$3" --arg effect "${4:-Allow}" \
		'any(.Statement[]; .Sid == $sid and .Effect == $effect)' >/dev/null
}
check_statement() { has_statement "$@" || fail "no statement Sid $3 (${4:-Allow}) in $2's policy (account $1)"; }
check_statement $account my-function s3
check_statement $account my-function xaccount
check_statement $orders_account orders-api partner Allow
check_statement $orders_account orders-api deny-outside-network Deny
log "my-function's policy: $(policy $account my-function | jq -c '[.Statement[] | {Sid, Effect}]')"
log "orders-api's policy: $(policy $orders_account orders-api | jq -c '[.Statement[] | {Sid, Effect, Condition}]')"
log "step 1 passed: every sample Ready, both accounts' statements in the emulator ($((SECONDS - step_t))s)"

step_t=$SECONDS
# --- 2. Leader handover: two replicas with leader election; the leader's pod
# deleted, the Lease goes to another pod, and a change made afterwards converges.
ready_pods() { # image: the Running, Ready, not terminating operator pods (of that image if given)
	kubectl -n $ns get pods -l $selector -o json | jq -r --arg image "${1:-}" '.items[]
		| select(.metadata.deletionTimestamp == null)
		| select($image == "" or (.spec.containers[0].image | endswith($image)))
		| select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))
		| .metadata.name'
}
all_pods() { kubectl -n $ns get pods -l $selector -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }
holder() { kubectl -n $ns get lease $lease -o jsonpath='{.spec.holderIdentity}' 2>/dev/null | sed 's/_.*//'; }
pods_are() { # count image: exactly count pods exist, all Ready, of image
	[[ $(all_pods | wc -l) == "$1" && $(ready_pods "$2" | wc -l) == "$1" ]]
}
holder_among() { # pods...: the Lease is held by one of them
	local h
	h=$(holder)
	[[ -n $h ]] && printf '%s\n' "$@" | grep -qx -- "$h"
}
helm upgrade lperm charts/lambda-permission-operator --namespace $ns --values "$e2e/values.yaml" \
	--set replicas=2 --wait --timeout 180s || fail "helm upgrade --set replicas=2"
wait_until "2 operator pods Ready, no other" 120 pods_are 2 "" || fail "replicas=2 rollout"
kubectl -n $ns get deploy -l $selector -o jsonpath='{.items[0].spec.template.spec.containers[0].args}{"\n"}' |
	grep -q -- --leader-elect || fail "the Deployment has no --leader-elect"
mapfile -t pods < <(ready_pods)
wait_until "the Lease $lease held by one of ${pods[*]}" 60 holder_among "${pods[@]}" || fail "a leader"
leader=$(holder)
log "pods ${pods[*]}; leader (Lease $lease): $leader"
deleted_t=$SECONDS
kubectl -n $ns delete pod "$leader" --wait=true --timeout 60s
new_leader_elected() {
	local h
	h=$(holder)
	[[ -n $h && $h != "$leader" ]] && kubectl -n $ns get pod "$h" >/dev/null 2>&1
}
wait_until "the Lease $lease held by a pod other than the deleted $leader" 60 new_leader_elected ||
	fail "leader handover"
log "the Lease went from $leader to $(holder) $((SECONDS - deleted_t))s after the deletion began"
kubectl apply -f - <<EOF
apiVersion: lambda.permissions.dev/v1alpha1
kind: LambdaPermission
metadata: {name: my-function-handover, namespace: default}
spec:
  functionName: my-function
  statementId: handover
  action: lambda:InvokeFunction
  principal: "323456789012"
EOF
kubectl wait --for=condition=Ready lambdapermission/my-function-handover --timeout 60s ||
	fail "my-function-handover (created after the leader's deletion) Ready"
check_statement $account my-function handover
wait_until "2 operator pods Ready again" 120 pods_are 2 "" || fail "the Deployment replacing the deleted pod"
log "step 2 passed: leader $leader deleted, $(holder) took the Lease, my-function-handover Ready and its statement in the policy ($((SECONDS - step_t))s)"

step_t=$SECONDS
# --- 3. helm upgrade to a new image tag: new pods Ready with it, and no
# statement touched (no write to the emulator; every policy unchanged).
new_tag=e2e-2
stored=$(ctrk8s images ls -q | grep -x ".*/${image_ref}" | head -n1)
[[ -n $stored ]] || fail "image $image_ref not found in containerd"
ctrk8s images tag "$stored" "${stored%:*}:$new_tag" >/dev/null
for f in "${functions[@]}"; do
	set -- $f
	policy "$1" "$2" >"$e2e/policy.$2.before"
done
curl -fsS -X DELETE -o /dev/null "$emulator/_emulator/stats"
helm upgrade lperm charts/lambda-permission-operator --namespace $ns --values "$e2e/values.yaml" \
	--set replicas=2 --set image.tag=$new_tag --wait --timeout 180s || fail "helm upgrade --set image.tag=$new_tag"
wait_until "2 operator pods Ready with image tag $new_tag, no other" 120 pods_are 2 ":$new_tag" ||
	fail "the rollout to $new_tag"
mapfile -t pods < <(ready_pods ":$new_tag")
wait_until "the Lease held by a pod of $new_tag (${pods[*]})" 60 holder_among "${pods[@]}" || fail "a new leader"
log "pods of $new_tag: ${pods[*]}; leader: $(holder)"
# The new leader checks every statement against a fresh read when asked
# (the sync-requested annotation, any new value); each object's status then
# records the request as handled.
request="e2e-upgrade-$new_tag-$(date +%s)"
kubectl annotate lambdapermissions --all --overwrite "lambda.permissions.dev/sync-requested=$request" >/dev/null ||
	fail "asking for a check of every LambdaPermission"
all_checked() {
	kubectl get lambdapermissions -o json | jq -e --arg r "$request" \
		'all(.items[]; (.status.lastHandledSyncRequest // "") == $r)' >/dev/null
}
wait_until "every LambdaPermission checked again by the new leader (lastHandledSyncRequest)" 90 all_checked ||
	fail "the new leader's check"
kubectl wait --for=condition=Ready lambdapermissions --all --timeout 10s || fail "every LambdaPermission still Ready"
for f in "${functions[@]}"; do
	set -- $f
	policy "$1" "$2" >"$e2e/policy.$2.after"
	diff -u "$e2e/policy.$2.before" "$e2e/policy.$2.after" || fail "$2's policy changed by the upgrade"
done
stats=$(curl -fsS "$emulator/_emulator/stats")
writes=$(jq -c '.calls // {} | with_entries(select(.key | test("^(AddPermission|RemovePermission|PutResourcePolicy|DeleteResourcePolicy)$")))' <<<"$stats")
[[ $writes == "{}" ]] || fail "policy writes during the upgrade: $writes"
log "emulator calls during the upgrade: $(jq -c .calls <<<"$stats")"
log "step 3 passed: upgraded to $new_tag, $(jq '[.Statement[]] | length' "$e2e"/policy.*.after | paste -sd+ | bc) statements unchanged, no policy write ($((SECONDS - step_t))s)"

step_t=$SECONDS
# --- 4. helm uninstall leaves the CRDs (crds.keep: helm.sh/resource-policy:
# keep) and every LambdaPermission, with its finalizer: no operator is left to
# remove it (docs/operations.md, Uninstall: delete the objects first while the operator
# runs, if their statements are to go).
helm uninstall lperm --namespace $ns --wait --timeout 120s || fail "helm uninstall"
kubectl -n $ns wait --for=delete pod -l $selector --timeout 60s || fail "the operator's pods gone"
for crd in lambdapermissions lambdapermissionaccounts lambdafunctionurlpermissions lambdaresourcepolicies; do
	kubectl get crd $crd.lambda.permissions.dev -o name || fail "CRD $crd.lambda.permissions.dev deleted by helm uninstall"
done
left=$(kubectl get lambdapermissions -o json | jq -r '.items[] | "\(.metadata.name) \(.metadata.finalizers // [] | join(","))"')
echo "$left"
[[ $(wc -l <<<"$left") == 5 ]] || fail "expected 5 LambdaPermissions after uninstall"
! grep -qv ' lambda.permissions.dev/statement$' <<<"$left" || fail "a LambdaPermission lost its finalizer"
kubectl get lambdapermissionaccount orders -o name || fail "LambdaPermissionAccount orders gone"
log "step 4 passed: helm uninstall left the 4 CRDs and the 5 LambdaPermissions, finalizers in place ($((SECONDS - step_t))s)"

if [[ -n ${E2E_KEEP:-} ]]; then
	log "cluster running; KUBECONFIG=$KUBECONFIG; Ctrl-C stops it"
	while sleep 3600; do :; done
fi
log "PASS (${SECONDS}s)"
