#!/usr/bin/env bash
# `make e2e`: a real single-node Kubernetes 1.37 cluster on this machine, all
# built from source (hack/control-plane/build.sh and build-node.sh): etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, containerd 2 with
# runc and the CNI bridge, kubelet and kube-proxy. It imports the locally
# built sandbox ("pause") image and runs a trivial pod to Ready; then imports
# the operator's image (bin/image, `make image`; E2E_OPERATOR_IMAGE), installs
# the chart with helm, AWS pointed at the Lambda emulator on the host, and
# checks that the operator, under the chart's RBAC, makes my-function's two
# samples Ready and their statements appear in the emulator.
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
	--allow-privileged
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
region=us-east-2 account=123456789012
start lambda-emulator "$e2e/lambda-emulator" --addr "$gateway:9001" --region $region --account-id $account
emulator=http://$gateway:9001
for _ in $(seq 50); do curl -s -o /dev/null "$emulator/" && break; sleep 0.2; done
curl -fsS -o /dev/null -X POST "$emulator/2015-03-31/functions" -H 'Content-Type: application/json' \
	-d '{"FunctionName":"my-function","Runtime":"python3.12","Role":"arn:aws:iam::'$account':role/e2e","Handler":"index.handler","Code":{"ZipFile":"ZTJl"}}'
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
operator_logs() {
	kubectl -n lperm describe pods | tail -n 25
	kubectl -n lperm logs -l app.kubernetes.io/name=lambda-permission-operator --tail 30
}
"$root/bin/helm" install lperm charts/lambda-permission-operator --namespace lperm --create-namespace \
	--values "$e2e/values.yaml" --wait --timeout 180s || { operator_logs; exit 1; }
kubectl -n lperm get pods -o wide
kubectl apply -f config/samples/lambda_v1alpha1_lambdapermission_s3.yaml \
	-f config/samples/lambda_v1alpha1_lambdapermission_xaccount.yaml
kubectl wait --for=condition=Ready lambdapermission/my-function-s3 lambdapermission/my-function-xaccount --timeout 120s ||
	{ kubectl get lambdapermissions -o yaml | tail -n 40; operator_logs; exit 1; }
kubectl get lambdapermissions
policy=$(curl -fsS "$emulator/2015-03-31/functions/my-function/policy")
log "my-function's policy in the emulator: $policy"
for sid in s3 xaccount; do
	grep -Eq "Sid[^:]*:[^a-z]*$sid[^a-z]" <<<"$policy" || { log "statement $sid missing from the policy"; exit 1; }
done

if [[ -n ${E2E_KEEP:-} ]]; then
	log "cluster running; KUBECONFIG=$KUBECONFIG; Ctrl-C stops it"
	while sleep 3600; do :; done
fi
log "PASS"
