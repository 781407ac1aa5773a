#!/usr/bin/env bash
# End-to-end tests: a real kube-apiserver + etcd (built from Go modules by build.sh) on
# 127.0.0.1, RBAC-limited users, an audit log, policy content, and the real kubectl-potoo.
#
#   bash tests/e2e/run.sh                 build if needed, start, load, assert, tear down
#   bash tests/e2e/run.sh --record        also rewrite tests/e2e/ground-truth/*.json
#   bash tests/e2e/run.sh --harness-only  skip every potoo assertion (cluster + ground truth only)
#   bash tests/e2e/run.sh --keep          keep the temp dir (logs, kubeconfigs, outputs) on exit
#
# Environment: POTOO_BIN (default: `cargo build --release`, then target/release/kubectl-potoo),
# POTOO_E2E_CACHE (binary cache root, see build.sh), POTOO_E2E_KEEP=1 (same as --keep).
# Closes with a line `N passed, M failed`; exits 1 if anything failed, 2 if the harness broke.
set -Eeuo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
manifests="$here/manifests"
gt_dir="$here/ground-truth"

record=0 harness_only=0 keep="${POTOO_E2E_KEEP:-0}"
for arg in "$@"; do
  case "$arg" in
    --record) record=1 ;;
    --harness-only) harness_only=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

run_start=$SECONDS
log() { printf '[e2e %4ds] %s\n' "$((SECONDS - run_start))" "$*" >&2; }
die() { log "HARNESS ERROR: $*"; exit 2; }
# any unguarded failing command is a harness failure (exit 2), never a test failure (exit 1)
trap 'rc=$?; log "HARNESS ERROR: line $LINENO: \`$BASH_COMMAND\` exited $rc"; exit 2' ERR

for tool in curl jq openssl python3; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

# ---------------------------------------------------------------------------------------------
# Results
passed=0 failed=0
failures=()
pass() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() {
  failed=$((failed + 1)); failures+=("$1")
  printf 'FAIL %s\n' "$1"
  if [[ $# -gt 1 && -n "$2" ]]; then printf '%s\n' "$2" | head -c 4000 | sed 's/^/     | /'; echo; fi
}
# check NAME CMD...: passes when CMD exits 0; on failure shows CMD's output.
check() {
  local name="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then pass "$name"; else fail "$name" "$out"; fi
}

# ---------------------------------------------------------------------------------------------
# Binaries
log "building or finding kube-apiserver, kubectl, etcd (tests/e2e/build.sh)"
k8s_bin="$(bash "$here/build.sh" | tail -n1)" || die "build.sh failed"
APISERVER="$k8s_bin/kube-apiserver" KUBECTL="$k8s_bin/kubectl" ETCD="$k8s_bin/etcd"

POTOO=""
if [[ $harness_only -eq 0 ]]; then
  if [[ -n "${POTOO_BIN:-}" ]]; then
    POTOO="$(cd "$repo" && realpath "$POTOO_BIN")"
  else
    log "cargo build --release"
    (cd "$repo" && cargo build --release --quiet --bin kubectl-potoo) || die "cargo build --release failed"
    POTOO="$repo/target/release/kubectl-potoo"
  fi
  [[ -x "$POTOO" ]] || die "no potoo binary at $POTOO"
fi

# ---------------------------------------------------------------------------------------------
# Temp dir and teardown
D="$(mktemp -d "${TMPDIR:-/tmp}/potoo-e2e.XXXXXX")"
mkdir -p "$D/pki" "$D/kubeconfig" "$D/out" "$D/home" "$D/cache"
etcd_pid="" apiserver_pid=""

stop_process() { # pid name: SIGTERM, wait up to 20 s, then SIGKILL
  local pid="$1" name="$2" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop after SIGTERM; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
teardown() {
  local rc=$?
  trap - EXIT INT TERM
  stop_process "$apiserver_pid" kube-apiserver
  stop_process "$etcd_pid" etcd
  if [[ $rc -eq 2 && -f "$D/apiserver.log" ]]; then
    log "last lines of the apiserver log:"; tail -n 30 "$D/apiserver.log" >&2 || true
  fi
  if [[ "$keep" == 1 ]]; then log "kept $D"; else rm -rf "$D"; fi
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# PKI, users, audit policy
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
(
  cd "$D/pki"
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key
  openssl req -x509 -new -key ca.key -subj /CN=potoo-e2e-ca -days 2 -out ca.crt \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  openssl ecparam -name prime256v1 -genkey -noout -out apiserver.key
  openssl req -new -key apiserver.key -subj /CN=kube-apiserver -out apiserver.csr
  printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
    'extendedKeyUsage=serverAuth' 'subjectAltName=IP:127.0.0.1,DNS:localhost' >apiserver.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile apiserver.ext -out apiserver.crt
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key
) >"$D/pki/openssl.log" 2>&1 || { cat "$D/pki/openssl.log" >&2; die "certificate generation failed"; }

ADMIN_TOKEN="admin-$(openssl rand -hex 16)"
ALICE_TOKEN="alice-$(openssl rand -hex 16)"
NOBODY_TOKEN="nobody-$(openssl rand -hex 16)"
cat >"$D/tokens.csv" <<EOF
$ADMIN_TOKEN,admin,uid-admin,"system:masters"
$ALICE_TOKEN,alice,uid-alice,"developers"
$NOBODY_TOKEN,nobody,uid-nobody
EOF
cat >"$D/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
EOF

# ---------------------------------------------------------------------------------------------
# etcd + kube-apiserver
start_cluster() {
  ETCD_PORT="$(free_port)"; PEER_PORT="$(free_port)"; API_PORT="$(free_port)"
  rm -rf "$D/etcd-data"
  "$ETCD" --name default --data-dir "$D/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "default=http://127.0.0.1:$PEER_PORT" \
    --unsafe-no-fsync --log-level warn >"$D/etcd.log" 2>&1 &
  etcd_pid=$!
  local deadline=$((SECONDS + 30))
  until curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1; do
    kill -0 "$etcd_pid" 2>/dev/null || { log "etcd exited"; tail -n 20 "$D/etcd.log" >&2; return 1; }
    ((SECONDS < deadline)) || { log "etcd not healthy after 30 s"; return 1; }
    sleep 0.2
  done

  "$APISERVER" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$API_PORT" \
    --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
    --cert-dir="$D/pki" --tls-cert-file="$D/pki/apiserver.crt" --tls-private-key-file="$D/pki/apiserver.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --authorization-mode=RBAC \
    --token-auth-file="$D/tokens.csv" \
    --service-account-issuer="https://127.0.0.1:$API_PORT" \
    --service-account-key-file="$D/pki/sa.key" --service-account-signing-key-file="$D/pki/sa.key" \
    --allow-privileged=true \
    --enable-admission-plugins=NamespaceLifecycle,LimitRanger,PodSecurity,ValidatingAdmissionPolicy,ResourceQuota \
    --disable-admission-plugins=ServiceAccount \
    --audit-policy-file="$D/audit-policy.yaml" --audit-log-path="$D/audit.log" --audit-log-format=json \
    --profiling=false --v=1 >"$D/apiserver.log" 2>&1 &
  apiserver_pid=$!

  deadline=$((SECONDS + 120))
  until curl -fsS --cacert "$D/pki/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
      "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1; do
    kill -0 "$apiserver_pid" 2>/dev/null || { log "kube-apiserver exited"; tail -n 20 "$D/apiserver.log" >&2; return 1; }
    ((SECONDS < deadline)) || { log "kube-apiserver not ready after 120 s"; return 1; }
    sleep 0.5
  done
  local code
  until code="$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$D/pki/ca.crt" \
      -H "Authorization: Bearer $ADMIN_TOKEN" "https://127.0.0.1:$API_PORT/api/v1/namespaces/default")" \
      && [[ "$code" == 200 ]]; do
    kill -0 "$apiserver_pid" 2>/dev/null || { log "kube-apiserver exited"; return 1; }
    ((SECONDS < deadline)) || { log "namespace default not there after 120 s (last code $code)"; return 1; }
    sleep 0.5
  done
}

t_cluster=$SECONDS
for attempt in 1 2 3; do
  log "starting etcd and kube-apiserver (attempt $attempt)"
  if start_cluster; then break; fi
  stop_process "$apiserver_pid" kube-apiserver; apiserver_pid=""
  stop_process "$etcd_pid" etcd; etcd_pid=""
  [[ $attempt -lt 3 ]] || die "the cluster did not start (logs in $D; rerun with --keep)"
done
SERVER="https://127.0.0.1:$API_PORT"
log "apiserver ready at $SERVER in $((SECONDS - t_cluster)) s"

# ---------------------------------------------------------------------------------------------
# Kubeconfigs: one per user, and one with several contexts (current: admin, namespace default)
CA_DATA="$(base64 -w0 <"$D/pki/ca.crt")"
write_kubeconfig() { # file user token namespace
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: $SERVER
    certificate-authority-data: $CA_DATA
users:
- name: $2
  user:
    token: $3
contexts:
- name: $2@e2e
  context: {cluster: e2e, user: $2, namespace: $4}
current-context: $2@e2e
EOF
}
write_kubeconfig "$D/kubeconfig/admin" admin "$ADMIN_TOKEN" default
write_kubeconfig "$D/kubeconfig/alice" alice "$ALICE_TOKEN" team-a
write_kubeconfig "$D/kubeconfig/nobody" nobody "$NOBODY_TOKEN" default
cat >"$D/kubeconfig/multi" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: $SERVER
    certificate-authority-data: $CA_DATA
users:
- {name: admin, user: {token: $ADMIN_TOKEN}}
- {name: alice, user: {token: $ALICE_TOKEN}}
- {name: nobody, user: {token: $NOBODY_TOKEN}}
contexts:
- {name: admin@e2e, context: {cluster: e2e, user: admin, namespace: default}}
- {name: admin-team-b@e2e, context: {cluster: e2e, user: admin, namespace: team-b}}
- {name: alice@e2e, context: {cluster: e2e, user: alice, namespace: team-a}}
- {name: nobody@e2e, context: {cluster: e2e, user: nobody}}
current-context: admin@e2e
EOF
chmod 600 "$D"/kubeconfig/*
KC_ADMIN="$D/kubeconfig/admin" KC_ALICE="$D/kubeconfig/alice" KC_NOBODY="$D/kubeconfig/nobody" KC_MULTI="$D/kubeconfig/multi"
kc() { "$KUBECTL" --kubeconfig "$KC_ADMIN" "$@"; }
api() { # METHOD PATH [curl args...]: as admin; prints the body
  local method="$1" path="$2"; shift 2
  curl -sS --cacert "$D/pki/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" -X "$method" "$SERVER$path" "$@"
}
retry() { # retry N CMD...: for the short windows where a new CRD or RBAC rule is not served yet
  local n="$1" i; shift
  for ((i = 1; i <= n; i++)); do
    if "$@"; then return 0; fi
    sleep 1
  done
  return 1
}
# wait_admission NS FILE PATTERN: server-side dry-run FILE until the apiserver's answer matches
# PATTERN (admission plugins read policies, bindings and quotas from informers: they lag).
wait_admission() {
  local out i
  for ((i = 0; i < 60; i++)); do
    out="$(kc create --dry-run=server -f "$2" -o name 2>&1 || true)"
    if grep -qE "$3" <<<"$out"; then return 0; fi
    sleep 0.5
  done
  log "admission never matched /$3/ for $2; last answer: $out"
  return 1
}
set_quota_status() { # writes status.hard/used of every ResourceQuota in 50-quota-limits.yaml
  local line
  while IFS= read -r line; do
    kc patch resourcequota "$(jq -r .name <<<"$line")" -n "$(jq -r .ns <<<"$line")" \
      --subresource=status --type=merge -p "$(jq -c '{status: .status}' <<<"$line")" >/dev/null
  done < <(kc create --dry-run=client -o json -f "$manifests/50-quota-limits.yaml" |
    jq -c '(if .kind == "List" then .items[] else . end) | select(.kind == "ResourceQuota") | {ns: .metadata.namespace, name: .metadata.name, status}')
}

# ---------------------------------------------------------------------------------------------
# Content
t_content=$SECONDS
log "loading content from tests/e2e/manifests"
load() { # kubectl apply FILES... as admin; its warnings (Pod Security warn=) go to load.log
  local args=() f
  for f in "$@"; do args+=(-f "$manifests/$f"); done
  kc apply "${args[@]}" >>"$D/load.log" 2>&1
}
load 00-crds.yaml || die "loading CRDs failed: $(tail -n 5 "$D/load.log")"
kc wait --for=condition=Established crd -l potoo-e2e/fake-engine=true --timeout=60s >/dev/null
load 10-namespaces.yaml 20-rbac.yaml || die "loading namespaces/RBAC failed: $(tail -n 5 "$D/load.log")"
retry 10 load 30-network.yaml 40-admission.yaml \
  || die "loading 30-network.yaml / 40-admission.yaml failed: $(tail -n 5 "$D/load.log")"
# the VAPs must be enforced before the workloads arrive, so the content is known to pass them
wait_admission team-a "$gt_dir/cases/vap-deployment-missing-team-label.yaml" 'require-team-label' \
  || die "ValidatingAdmissionPolicy require-team-label never took effect"
wait_admission team-a "$gt_dir/cases/vap-pod-latest-tag.yaml" 'no-latest-tag' \
  || die "ValidatingAdmissionPolicy no-latest-tag never took effect"
load 50-quota-limits.yaml 60-workloads.yaml 70-reports.yaml \
  || die "loading quotas/workloads/reports failed: $(tail -n 5 "$D/load.log")"
set_quota_status
wait_admission team-b "$gt_dir/cases/quota-pod-count-full.yaml" 'exceeded quota: pod-count' \
  || die "quota pod-count never took effect"
wait_admission team-a "$gt_dir/cases/quota-cpu-exceeded.yaml" 'exceeded quota: compute-quota' \
  || die "quota compute-quota never took effect"
for i in $(seq 1 40); do
  [[ "$("$KUBECTL" --kubeconfig "$KC_ALICE" auth can-i list pods -n team-a 2>/dev/null)" == yes ]] && break
  sleep 0.5
done
log "content loaded in $((SECONDS - t_content)) s"

# Harness self-checks (they count as tests: a broken cluster must not look like a potoo bug)
k8s_version="$(basename "$k8s_bin" | cut -d- -f1)"
server_version="$(api GET /version | jq -r .gitVersion)"
if [[ "$server_version" == "$k8s_version" ]]; then pass "harness: the apiserver reports $k8s_version"
else fail "harness: the apiserver reports $k8s_version" "/version says $server_version"; fi
can_i() { # kubeconfig verb resource [ns] -> prints yes/no
  # no namespace: ask cluster-wide (-A), or kubectl would ask in the context's namespace
  if [[ -n "${4:-}" ]]; then "$KUBECTL" --kubeconfig "$1" auth can-i "$2" "$3" -n "$4" 2>/dev/null || true
  else "$KUBECTL" --kubeconfig "$1" auth can-i "$2" "$3" -A 2>/dev/null || true; fi
}
expect_can_i() { # name expected kubeconfig verb resource [ns]
  local name="$1" want="$2"; shift 2
  local got; got="$(can_i "$@")"
  if [[ "$got" == "$want" ]]; then pass "$name"; else fail "$name" "can-i $* -> '$got', want '$want'"; fi
}
expect_can_i "harness: alice can list pods in team-a" yes "$KC_ALICE" list pods team-a
expect_can_i "harness: alice can list secrets in team-a" yes "$KC_ALICE" list secrets team-a
expect_can_i "harness: alice cannot list pods in team-b" no "$KC_ALICE" list pods team-b
expect_can_i "harness: alice cannot list validatingwebhookconfigurations" no "$KC_ALICE" list validatingwebhookconfigurations.admissionregistration.k8s.io
expect_can_i "harness: nobody cannot list pods in team-a" no "$KC_NOBODY" list pods team-a
expect_can_i "harness: admin can list secrets everywhere" yes "$KC_ADMIN" list secrets
check "harness: audit log is written" test -s "$D/audit.log"

# ---------------------------------------------------------------------------------------------
# potoo assertions
# Fields removed before comparing two potoo JSON documents that must be equal (live vs offline,
# --context vs --kubeconfig, --as vs a real login): the top-level `source` (where the data came
# from: live context/server/user or the --from files). Nothing else may differ, except that
# `--as bob --as-group team-a-readers` is compared with alice after renaming User "bob" to
# User "alice" in gap messages (they quote the apiserver's 403 text, which names the user).
STRIP='del(.source)'
SECRET_VALUES=(supersecret-e2e-value c3VwZXJzZWNyZXQtZTJlLXZhbHVl team-b-token-e2e-value
  restricted-secret-e2e-value configmap-e2e-value last-applied-configuration)

# potoo LABEL ARGS...: runs the binary, keeps stdout/stderr/exit code under $D/out/LABEL.*
potoo() {
  local label="$1"; shift
  local rc=0
  env -u KUBECONFIG HOME="$D/home" XDG_CACHE_HOME="$D/cache" NO_COLOR=1 \
    timeout 120 "$POTOO" "$@" >"$D/out/$label.stdout" 2>"$D/out/$label.stderr" </dev/null || rc=$?
  printf '%s\n' "$rc" >"$D/out/$label.rc"
  printf '%s\n' "$*" >"$D/out/$label.args"
}
rc_of() { cat "$D/out/$1.rc"; }
show() { # what a failure prints about a run
  printf 'args: %s\nexit: %s\n--- stderr:\n%s\n--- stdout:\n%s\n' "$(cat "$D/out/$1.args")" \
    "$(rc_of "$1")" "$(head -c 1500 "$D/out/$1.stderr")" "$(head -c 1500 "$D/out/$1.stdout")"
}
expect_rc() { # name label rc
  if [[ "$(rc_of "$2")" == "$3" ]]; then pass "$1"; else fail "$1" "want exit $3; $(show "$2")"; fi
}
expect_jq() { # name label jq-filter (must yield true)
  if jq -e "$3" "$D/out/$2.stdout" >/dev/null 2>&1; then pass "$1"; else
    fail "$1" "jq '$3' is not true; $(show "$2")"; fi
}
expect_same() { # name labelA labelB [extra jq filter for A]: equal JSON after $STRIP
  local a="$D/out/$2.stdout" b="$D/out/$3.stdout" fa="$STRIP${4:+ | $4}"
  if jq -e . "$a" >/dev/null 2>&1 && jq -e . "$b" >/dev/null 2>&1 &&
    diff <(jq -S "$fa" "$a") <(jq -S "$STRIP" "$b") >"$D/out/$2.vs.$3.diff" 2>&1; then
    pass "$1"
  else
    fail "$1" "$(printf '%s (after %s) vs %s (after %s):\n' "$2" "$fa" "$3" "$STRIP"; head -c 2500 "$D/out/$2.vs.$3.diff" 2>/dev/null; show "$2"; show "$3")"
  fi
}
expect_doc() { # name label kind: a potoo JSON document of that kind
  expect_jq "$1" "$2" ".apiVersion == \"potoo.dev/v1alpha1\" and .kind == \"$3\" and (.incomplete | type) == \"boolean\" and (.gaps | type) == \"array\""
}

if [[ $harness_only -eq 0 ]]; then
  t0="$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)"
  t_potoo=$SECONDS
  log "running potoo against the cluster"
  # admin
  potoo admin-query-all query --kubeconfig "$KC_ADMIN" -A -o json
  potoo admin-status status --kubeconfig "$KC_ADMIN" -o json
  potoo admin-status-all status --kubeconfig "$KC_ADMIN" -A -o json
  potoo admin-query-team-a query --kubeconfig "$KC_ADMIN" -n team-a -o json
  potoo admin-query-team-a-yaml query --kubeconfig "$KC_ADMIN" -n team-a -o yaml
  potoo admin-query-team-b query --kubeconfig "$KC_ADMIN" -n team-b -o json
  potoo admin-query-default query --kubeconfig "$KC_ADMIN" -n default -o json
  # alice and nobody
  potoo alice-query query --kubeconfig "$KC_ALICE" -n team-a -o json
  potoo alice-query-table query --kubeconfig "$KC_ALICE" -n team-a
  potoo nobody-query query --kubeconfig "$KC_NOBODY" -n team-a -o json
  # contexts: the namespace comes from the context when -n is absent
  potoo ctx-current query --kubeconfig "$KC_MULTI" -o json
  potoo ctx-admin-team-b query --kubeconfig "$KC_MULTI" --context admin-team-b@e2e -o json
  potoo ctx-alice query --kubeconfig "$KC_MULTI" --context alice@e2e -o json
  potoo ctx-nobody query --kubeconfig "$KC_MULTI" --context nobody@e2e -o json
  # impersonation
  potoo as-alice query --kubeconfig "$KC_ADMIN" --as alice -n team-a -o json
  potoo as-group query --kubeconfig "$KC_ADMIN" --as bob --as-group team-a-readers -n team-a -o json
  potoo as-nobody query --kubeconfig "$KC_ADMIN" --as nobody -n team-a -o json
  sleep 1
  t1="$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)"
  log "potoo live runs took $((SECONDS - t_potoo)) s"

  # Every request potoo made (t0..t1, users admin/alice/nobody, not kubectl's or curl's).
  jq -c --arg t0 "$t0" --arg t1 "$t1" '
      select(.user.username == "admin" or .user.username == "alice" or .user.username == "nobody")
      | select(.requestReceivedTimestamp >= $t0 and .requestReceivedTimestamp <= $t1)
      | select((.userAgent // "") | test("^(kubectl|curl)/") | not)
      | {verb, user: .user.username, as: .impersonatedUser.username, uri: .requestURI,
         resource: .objectRef.resource, group: .objectRef.apiGroup, name: .objectRef.name,
         code: .responseStatus.code, ua: .userAgent}' \
    "$D/audit.log" >"$D/out/audit-potoo.jsonl"

  # Offline input 1: exactly the kinds potoo listed live as admin, exported with kubectl.
  # Offline input 2: every listable kind but events (a plain full dump; extra kinds must not matter).
  log "exporting the cluster with kubectl for the offline comparison"
  read_kinds="$(jq -r 'select(.user == "admin" and .as == null and .verb == "list" and .resource != null)
      | if (.group // "") == "" then .resource else .resource + "." + .group end' "$D/out/audit-potoo.jsonl" |
    sort -u | paste -sd, -)"
  all_kinds="$(kc api-resources --verbs=list -o name | grep -vxE 'events|events\.events\.k8s\.io|componentstatuses' | paste -sd, -)"
  if [[ -n "$read_kinds" ]]; then kc get "$read_kinds" -A -o json >"$D/export.json"
  else echo '{"apiVersion": "v1", "kind": "List", "items": []}' >"$D/export.json"; fi
  kc get "$all_kinds" -A -o json >"$D/export-all.json"
  log "export of the $(tr ',' '\n' <<<"$read_kinds" | grep -c . || true) kinds potoo read: $(jq '.items | length' "$D/export.json") objects; full dump: $(jq '.items | length' "$D/export-all.json") objects"
  printf '%s\n' "$read_kinds" | tr ',' '\n' >"$D/out/read-kinds.txt"

  potoo offline-query-all query --from "$D/export.json" -A -o json
  potoo offline-status status --from "$D/export.json" -o json
  potoo offline-status-all status --from "$D/export.json" -A -o json
  potoo offline-full-query-all query --from "$D/export-all.json" -A -o json

  # --- live vs offline
  expect_rc "admin: query -A -o json exits 0" admin-query-all 0
  expect_doc "admin: query -A -o json is a QueryResult" admin-query-all QueryResult
  expect_jq "admin: query -A is complete (incomplete=false, no gaps)" admin-query-all '.incomplete == false and .gaps == []'
  expect_rc "admin: status -o json exits 0" admin-status 0
  expect_doc "admin: status -o json is a StatusResult" admin-status StatusResult
  expect_rc "offline: query --from export -A exits 0" offline-query-all 0
  expect_rc "offline: status --from export exits 0" offline-status 0
  expect_same "live == offline: query -A -o json" admin-query-all offline-query-all
  expect_same "live == offline (full dump): query -A -o json" admin-query-all offline-full-query-all
  expect_same "live == offline: status -o json" admin-status offline-status
  expect_rc "admin: status -A -o json exits 0" admin-status-all 0
  expect_same "live == offline: status -A -o json" admin-status-all offline-status-all

  # --- what admin sees in team-a: every constraint-bearing object that applies there
  expect_rc "admin: query -n team-a exits 0" admin-query-team-a 0
  expect_doc "admin: query -n team-a is a QueryResult" admin-query-team-a QueryResult
  while read -r kind name; do
    [[ -z "$kind" || "$kind" == \#* ]] && continue
    expect_jq "admin: team-a constraints include $kind/$name" admin-query-team-a \
      "[.constraints[].source | select(.kind == \"$kind\" and .name == \"$name\")] | length > 0"
  done <"$here/expect/team-a-sources.txt"
  while read -r kind name; do
    [[ -z "$kind" || "$kind" == \#* ]] && continue
    expect_jq "admin: team-a constraints exclude $kind/$name" admin-query-team-a \
      "[.constraints[].source | select(.kind == \"$kind\" and .name == \"$name\")] | length == 0"
  done <"$here/expect/team-a-not-sources.txt"
  if python3 -c 'import json,sys,yaml; a=yaml.safe_load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); a.pop("source",None); b.pop("source",None); sys.exit(a!=b)' \
    "$D/out/admin-query-team-a-yaml.stdout" "$D/out/admin-query-team-a.stdout" 2>/dev/null; then
    pass "admin: -o yaml carries the same document as -o json"
  else
    fail "admin: -o yaml carries the same document as -o json" "$(show admin-query-team-a-yaml)"
  fi

  # --- alice: partial rights
  expect_rc "alice: query -n team-a exits 0" alice-query 0
  expect_doc "alice: query -n team-a is a QueryResult" alice-query QueryResult
  expect_jq "alice: query -n team-a is incomplete" alice-query '.incomplete == true and (.gaps | length) > 0'
  for resource in validatingwebhookconfigurations validatingadmissionpolicies clusterpolicies; do
    expect_jq "alice: gaps name $resource" alice-query \
      "[.gaps[] | tostring | test(\"$resource\"; \"i\")] | any"
  done
  if jq -e . "$D/out/admin-query-team-a.stdout" >/dev/null 2>&1 && jq -e . "$D/out/alice-query.stdout" >/dev/null 2>&1; then
    missing="$(jq -rn --slurpfile a "$D/out/admin-query-team-a.stdout" --slurpfile b "$D/out/alice-query.stdout" \
      '($b[0].constraints | map(.id)) as $have
       | [$a[0].constraints[] | select(.source.namespace == "team-a") | .id | select(. as $i | $have | index($i) | not)]
       | .[]')"
    count="$(jq '[.constraints[] | select(.source.namespace == "team-a")] | length' "$D/out/admin-query-team-a.stdout")"
    if [[ -z "$missing" && "$count" -gt 0 ]]; then
      pass "alice: all $count constraints from objects in team-a are present"
    else
      fail "alice: all constraints from objects in team-a are present" "admin saw $count; missing for alice: $missing"
    fi
  else
    fail "alice: all constraints from objects in team-a are present" "$(show alice-query)"
  fi
  expect_rc "alice: table output exits 0" alice-query-table 0
  if grep -qiE 'incomplete|cannot read|gap' "$D/out/alice-query-table.stderr" &&
    grep -qi 'validatingwebhookconfiguration' "$D/out/alice-query-table.stderr"; then
    pass "alice: table output says on stderr what could not be read"
  else
    fail "alice: table output says on stderr what could not be read" "$(show alice-query-table)"
  fi

  # --- nobody: no rights at all
  expect_rc "nobody: query exits 2" nobody-query 2
  if grep -qiE 'forbidden|permission|not allowed|no rights|cannot' "$D/out/nobody-query.stderr"; then
    pass "nobody: stderr explains the missing rights"
  else
    fail "nobody: stderr explains the missing rights" "$(show nobody-query)"
  fi

  # --- contexts and impersonation
  expect_rc "--context: current context (admin, namespace default) exits 0" ctx-current 0
  expect_same "--context: current context defaults to its namespace (default)" ctx-current admin-query-default
  expect_same "--context admin-team-b@e2e: -n defaults to team-b" ctx-admin-team-b admin-query-team-b
  expect_same "--context alice@e2e: user alice, namespace team-a" ctx-alice alice-query
  expect_jq "--context alice@e2e: incomplete like alice" ctx-alice '.incomplete == true'
  expect_rc "--context nobody@e2e: exits 2" ctx-nobody 2
  expect_same "--as alice (as admin) behaves like alice" as-alice alice-query
  expect_same "--as bob --as-group team-a-readers behaves like alice" as-group alice-query \
    '(.gaps[]?.message) |= gsub("User \"bob\""; "User \"alice\"")'
  expect_rc "--as nobody (as admin) exits 2" as-nobody 2

  # --- privacy: no Secret or ConfigMap data, no last-applied annotation, in any output
  leaks=""
  for value in "${SECRET_VALUES[@]}"; do
    hits="$(grep -l -F -- "$value" "$D"/out/*.stdout "$D"/out/*.stderr 2>/dev/null || true)"
    [[ -z "$hits" ]] || leaks+="$value in: $(xargs -n1 basename <<<"$hits" | paste -sd' ' -)"$'\n'
  done
  if [[ -z "$leaks" ]]; then pass "privacy: no Secret/ConfigMap data or last-applied annotation in any output"
  else fail "privacy: no Secret/ConfigMap data or last-applied annotation in any output" "$leaks"; fi

  # --- audit: potoo only reads, and reads Secrets by list only
  n_events="$(wc -l <"$D/out/audit-potoo.jsonl")"
  log "audit: $n_events requests by potoo ($(jq -r .ua "$D/out/audit-potoo.jsonl" | sort -u | head -3 | paste -sd';' -))"
  if [[ "$n_events" -gt 0 ]]; then pass "audit: potoo's requests are in the audit log ($n_events)"
  else fail "audit: potoo's requests are in the audit log" "no request by admin/alice/nobody between $t0 and $t1"; fi
  bad="$(jq -c 'select(.verb != "get" and .verb != "list" and .verb != "watch")' "$D/out/audit-potoo.jsonl")"
  if [[ -z "$bad" ]]; then pass "audit: every potoo request is get, list or watch"
  else fail "audit: every potoo request is get, list or watch" "$bad"; fi
  bad="$(jq -c 'select(.resource == "secrets" and .verb == "get" and (.name // "") != "")' "$D/out/audit-potoo.jsonl")"
  if [[ -z "$bad" ]]; then pass "audit: no get of a named Secret (Secrets are only listed)"
  else fail "audit: no get of a named Secret (Secrets are only listed)" "$bad"; fi
fi

# ---------------------------------------------------------------------------------------------
# Ground truth: what this apiserver's admission (Pod Security, VAP, LimitRange, ResourceQuota)
# decides for each case, created for real as admin. Recorded with --record; compared otherwise.
log "ground truth: $(ls "$gt_dir"/cases/*.yaml | wc -l) cases$([[ $record -eq 1 ]] && echo ' (recording)')"
for case_file in "$gt_dir"/cases/*.yaml; do
  case_name="$(basename "$case_file" .yaml)"
  obj="$(kc create --dry-run=client -o json -f "$case_file")"
  kind="$(jq -r .kind <<<"$obj")" ns="$(jq -r .metadata.namespace <<<"$obj")" name="$(jq -r .metadata.name <<<"$obj")"
  case "$kind" in
    Pod) path="/api/v1/namespaces/$ns/pods" ;;
    Deployment) path="/apis/apps/v1/namespaces/$ns/deployments" ;;
    *) die "ground truth case $case_name: add the REST path of kind $kind to run.sh" ;;
  esac
  code="$(api POST "$path" -H 'Content-Type: application/json' --data-binary "$obj" \
    -D "$D/out/gt-$case_name.headers" -o "$D/out/gt-$case_name.body" -w '%{http_code}')"
  warnings="$(sed -n 's/^[Ww]arning: [0-9]* [^ ]* "\(.*\)"\r\{0,1\}$/\1/p' "$D/out/gt-$case_name.headers" |
    sed 's/\\"/"/g; s/\\\\/\\/g' | jq -R . | jq -s .)"
  result="$(jq -n --arg case "$case_name" --arg ns "$ns" --arg manifest "tests/e2e/ground-truth/cases/$case_name.yaml" \
    --arg kind "$kind" --arg name "$name" --argjson code "$code" --argjson warnings "$warnings" \
    --arg version "$k8s_version" --slurpfile body "$D/out/gt-$case_name.body" '
    {case: $case, namespace: $ns, manifest: $manifest, kind: $kind, name: $name,
     allowed: ($code == 201),
     message: (if $code == 201 then "" else $body[0].message end),
     reason: (if $code == 201 then "" else $body[0].reason end),
     code: $code, warnings: $warnings, apiserver: $version}')"
  if [[ "$code" == 201 ]]; then # undo: delete it, and restore the quotas it was counted in
    kc delete "$(tr '[:upper:]' '[:lower:]' <<<"$kind")" "$name" -n "$ns" --wait=true --timeout=30s >/dev/null
    set_quota_status
    sleep 1
  fi
  if [[ $record -eq 1 ]]; then
    jq . <<<"$result" >"$gt_dir/$case_name.json"
    pass "ground truth recorded: $case_name (allowed=$(jq .allowed <<<"$result"))"
  elif [[ ! -f "$gt_dir/$case_name.json" ]]; then
    fail "ground truth: $case_name" "no recorded result; run: bash tests/e2e/run.sh --record"
  else
    cmp='{allowed, code, reason, message, warnings}'
    if diff <(jq -S "$cmp" "$gt_dir/$case_name.json") <(jq -S "$cmp" <<<"$result") >"$D/out/gt-$case_name.diff"; then
      pass "ground truth: $case_name (allowed=$(jq .allowed <<<"$result"))"
    else
      fail "ground truth: $case_name" "recorded vs now:
$(cat "$D/out/gt-$case_name.diff")"
    fi
  fi
done
# potoo's prediction for the same cases, for each family whose engine exists (one file per
# family prefix in expect/check-predicts/: psa, vap, limitrange, quota): `check` live as admin
# must block exactly what the apiserver rejected, with the apiserver's message, and admit what
# it admitted.
if [[ $harness_only -eq 0 && $record -eq 0 ]]; then
  for recorded in "$gt_dir"/*.json; do
    [[ -e "$recorded" ]] || continue
    family="$(basename "$recorded" .json)"; family="${family%%-*}"
    [[ -f "$here/expect/check-predicts/$family" ]] || continue
    case_name="$(basename "$recorded" .json)"
    potoo "check-$case_name" check -f "$gt_dir/cases/$case_name.yaml" --kubeconfig "$KC_ADMIN" -o json
    potoo "check-offline-$case_name" check -f "$gt_dir/cases/$case_name.yaml" --from "$D/export.json" \
      -n "$(jq -r .namespace "$recorded")" -o json
    expect_same "live == offline: check $case_name" "check-$case_name" "check-offline-$case_name"
    allowed="$(jq -r .allowed "$recorded")"
    rc="$(rc_of "check-$case_name")"
    if [[ "$allowed" == true ]]; then
      # A controller the apiserver admits may still have Pods that would be rejected (this
      # harness runs no controller-manager, so those Pods are never created): potoo then blocks
      # only through the pod template (`viaPodTemplate`), never the object itself.
      direct="$(jq '[.objects[].findings[] | select(.verdict == "blocked" and (.viaPodTemplate | not))] | length' \
        "$D/out/check-$case_name.stdout" 2>/dev/null || echo error)"
      if [[ "$rc" == 0 || ( "$rc" == 1 && "$direct" == 0 ) ]]; then pass "check predicts the apiserver: $case_name (admitted)"
      else fail "check predicts the apiserver: $case_name (admitted)" "$(show "check-$case_name")"; fi
    else
      want="$(jq -r .message "$recorded")"
      got="$(jq -r --arg want "$want" '[.objects[].findings[] | select(.verdict == "blocked") | .message]
        | (map(select(. == $want)) + .) | first // ""' \
        "$D/out/check-$case_name.stdout" 2>/dev/null || true)"
      if [[ "$rc" == 1 && "$got" == "$want" ]]; then pass "check predicts the apiserver: $case_name (rejected, same message)"
      else fail "check predicts the apiserver: $case_name (rejected)" "want exit 1 and message:
$want
got: $got
$(show "check-$case_name")"; fi
    fi
  done
fi

# `check --server-dry-run`, the only requests potoo sends that are not reads (so after the audit
# assertions): for every ground-truth case the apiserver's dry-run answer is the recorded
# decision, message and warnings; a disagreement is flagged exactly when potoo's verdict is
# wrong; an admitted case is not persisted; alice (read-only) is told she needs `create`.
if [[ $harness_only -eq 0 && $record -eq 0 ]]; then
  for recorded in "$gt_dir"/*.json; do
    [[ -e "$recorded" ]] || continue
    case_name="$(basename "$recorded" .json)"
    family="${case_name%%-*}"
    potoo "dry-run-$case_name" check -f "$gt_dir/cases/$case_name.yaml" --kubeconfig "$KC_ADMIN" \
      --server-dry-run -o json
    want="$(jq -c '{result: (if .allowed then "admitted" else "rejected" end),
      message: (if .allowed then null else .message end), warnings}' "$recorded")"
    got="$(jq -c '.objects[0].dryRun | {result, message, warnings}' \
      "$D/out/dry-run-$case_name.stdout" 2>/dev/null || true)"
    if [[ "$got" == "$want" ]]; then pass "server dry run answers like the apiserver: $case_name"
    else fail "server dry run answers like the apiserver: $case_name" "want: $want
got:  $got
$(show "dry-run-$case_name")"; fi
    # A disagreement is flagged exactly when potoo's verdict contradicts the apiserver's
    # (`unknown` contradicts nothing; a controller whose Pods potoo rejects is itself admitted).
    if jq -e --argjson allowed "$(jq .allowed "$recorded")" '.objects[0] as $o
        | ($o.verdict == "blocked" and ($o.podsRejected | not)) as $rejects
        | ($o.verdict == "pass" or $o.verdict == "warning" or ($o.verdict == "blocked" and $o.podsRejected)) as $admits
        | (if $allowed then $rejects else $admits end) == ($o.dryRun.disagreement != null)' \
        "$D/out/dry-run-$case_name.stdout" >/dev/null 2>&1; then
      pass "server dry run flags disagreement exactly when potoo is wrong: $case_name"
    else
      fail "server dry run flags disagreement exactly when potoo is wrong: $case_name" "$(show "dry-run-$case_name")"
    fi
    if [[ "$(jq -r .allowed "$recorded")" == true ]]; then
      kind="$(jq -r .kind "$recorded" | tr '[:upper:]' '[:lower:]')"
      if kc get "$kind" "$(jq -r .name "$recorded")" -n "$(jq -r .namespace "$recorded")" >/dev/null 2>&1; then
        fail "server dry run persists nothing: $case_name" "the $kind exists after the dry run"
      else
        pass "server dry run persists nothing: $case_name"
      fi
    fi
  done
  potoo dry-run-alice check -f "$gt_dir/cases/psa-baseline-ok-warns-restricted.yaml" \
    --kubeconfig "$KC_ALICE" --server-dry-run -o json
  expect_jq "server dry run without create permission says so" dry-run-alice \
    '.objects[0].dryRun.result == "error" and (.objects[0].dryRun.message
      | startswith("server-side dry run needs `create` permission on `pods` in namespace `team-a`: "))'
fi

# explain: each recorded rejection message, pasted into `explain` live as admin (-n the case's
# namespace), must resolve with confidence high to the constraint in expect/explain-ground-truth
# (the Namespace's PodSecurity label, the VAP binding, the LimitRange, the ResourceQuota).
if [[ $harness_only -eq 0 && $record -eq 0 ]]; then
  explain_expect="$here/expect/explain-ground-truth"
  for recorded in "$gt_dir"/*.json; do
    [[ -e "$recorded" ]] || continue
    [[ "$(jq -r .allowed "$recorded")" == false ]] || continue
    case_name="$(basename "$recorded" .json)"
    want="$(awk -v name="$case_name" '$1 == name {print $2}' "$explain_expect")"
    if [[ -z "$want" ]]; then
      fail "explain resolves the apiserver's message: $case_name" "no line for it in $explain_expect"
      continue
    fi
    potoo "explain-$case_name" explain --kubeconfig "$KC_ADMIN" -n "$(jq -r .namespace "$recorded")" -o json \
      "$(jq -r .message "$recorded")"
    expect_rc "explain exits 0: $case_name" "explain-$case_name" 0
    expect_jq "explain resolves the apiserver's message: $case_name -> $want" "explain-$case_name" \
      "(.errors | length) == 1 and .errors[0].confidence == \"high\" and ([.errors[0].constraints[].id] | index(\"$want\") != null)"
  done
fi

# every recorded case still has its manifest
for recorded in "$gt_dir"/*.json; do
  [[ -e "$recorded" ]] || continue
  [[ -f "$gt_dir/cases/$(basename "$recorded" .json).yaml" ]] ||
    fail "ground truth: $(basename "$recorded") has no manifest in cases/" ""
done

# ---------------------------------------------------------------------------------------------
log "total $((SECONDS - run_start)) s"
if [[ ${#failures[@]} -gt 0 ]]; then
  printf '\nfailed:\n'; printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]] || exit 1
