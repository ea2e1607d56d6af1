# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the VM suites (tests/vm/suites/*), sourced after testlib.sh:
# modules and RDMA links, veth pairs with TEST-NET addresses (reachable
# only inside the VM), waiting for GIDs and listeners, the clean slate a
# test starts from, and perftest in loopback.  Functions that cannot do
# their job call `fail`.

module_loaded() { grep -q "^$1 " /proc/modules; }
has_link() { rdma link show 2>/dev/null | grep -q "^link $1/"; }

# wait_for CMD...: runs CMD every 0.1 s until it succeeds, for up to 10 s
# (queued unregistration, GID population, veth ends of a deleted namespace).
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# wait_listen PORT [NETNS]: until a server listens on TCP port PORT (in
# network namespace NETNS), for up to 30 s (TCG start-up is slow).
wait_listen() {
	local i ns=()
	[ -z "${2:-}" ] || ns=(ip netns exec "$2")
	for i in $(seq 300); do
		"${ns[@]}" ss -ltn "sport = :$1" 2>/dev/null | grep -q LISTEN && return 0
		sleep 0.1
	done
	return 1
}

# make_veth NAME PEER ADDR/LEN: a veth pair, NAME with ADDR, both ends up;
# nothing if NAME exists.
make_veth() {
	ip link show "$1" >/dev/null 2>&1 && return 0
	ip link add "$1" type veth peer name "$2"
	ip addr add "$3" dev "$1"
	ip link set "$1" up
	ip link set "$2" up
}

# wait_cm_listen PORT: until an rdma_cm ID listens on port PORT (rdma
# resource show cm_id); 0, or 1 after 60 s.
wait_cm_listen() {
	local end=$((SECONDS + 60))
	while [ "$SECONDS" -lt "$end" ]; do
		rdma resource show cm_id 2>/dev/null |
			grep -qE "state LISTEN .*src-addr [^ ]*:$1( |\$)" && return 0
		sleep 0.1
	done
	return 1
}

# has_gid DEV ADDR: DEV's GID table (sysfs) holds the RoCEv2 GID of IPv4
# address ADDR.
has_gid() {
	local port=/sys/class/infiniband/$1/ports/1 f
	# shellcheck disable=SC2086
	for f in $(grep -l ":ffff:$(printf '%02x%02x:%02x%02x' ${2//./ })\$" \
		"$port"/gids/* 2>/dev/null); do
		[ "$(cat "$port/gid_attrs/types/${f##*/}" 2>/dev/null)" = "RoCE v2" ] && return 0
	done
	return 1
}

# wait_gid DEV ADDR: until DEV has the RoCEv2 GID of IPv4 address ADDR
# (ib_core fills it in from the netdev's addresses); fails after 10 s.
wait_gid() {
	wait_for has_gid "$1" "$2" || fail "no RoCEv2 GID for $2 on $1"
}

# reset_softodp [NETNS...]: the clean slate - rdma_rxe and softodp unloaded
# with their devices, the namespaces NETNS deleted, the veths v0 and v2
# deleted and their peers gone (veth ends die with their namespace,
# asynchronously), softodp loaded again without devices.
reset_softodp() {
	local ns
	module_loaded rdma_rxe && rmmod rdma_rxe
	module_loaded softodp && rmmod softodp
	for ns in "$@"; do
		ip netns list | grep -qw "$ns" && ip netns del "$ns"
	done
	ip link del v0 2>/dev/null
	ip link del v2 2>/dev/null
	wait_for eval '! ip link show v1 >/dev/null 2>&1 && ! ip link show v3 >/dev/null 2>&1' ||
		fail "veth ends left behind: $(ip -br link)"
	modprobe softodp
}

# one_device: softodp loaded afresh with one device, sodp0 on v0
# (192.0.2.1/24, peer v1), its RoCEv2 GID in place: what the verbs programs
# run on in loopback.
one_device() {
	rdma link delete sodp0 2>/dev/null
	module_loaded softodp && rmmod softodp
	make_veth v0 v1 192.0.2.1/24
	modprobe softodp
	rdma link add sodp0 type softodp netdev v0
	wait_gid sodp0 192.0.2.1
}

# perftest_loopback PROGRAM ARGS...: PROGRAM ARGS as the server, and as the
# client of 192.0.2.1 (loopback), on TCP port PERF_PORT + 1 (PERF_PORT
# counts up).  perftest's clock calibration fails now and then under TCG
# ("Can't produce a report"): up to 3 tries.  A failed client or server
# fails the test.  With PERF_BESIDE set, that command runs in the
# background during each try (output in /tmp/perf-beside.log) and must
# succeed.  The client's output is left in PERF_OUT.
PERF_PORT=18700
perftest_loopback() {
	local try srv rc src beside
	for try in 1 2 3; do
		PERF_PORT=$((PERF_PORT + 1))
		"$@" -p "$PERF_PORT" >/tmp/perf-server.log 2>&1 &
		srv=$!
		wait_listen "$PERF_PORT" ||
			fail "$* server does not listen: $(cat /tmp/perf-server.log)"
		beside=
		if [ -n "${PERF_BESIDE:-}" ]; then
			$PERF_BESIDE >/tmp/perf-beside.log 2>&1 &
			beside=$!
		fi
		PERF_OUT=$(timeout 300 "$@" -p "$PERF_PORT" 192.0.2.1 2>&1)
		rc=$?
		wait "$srv"
		src=$?
		if [ -n "$beside" ]; then
			wait "$beside" ||
				fail "$PERF_BESIDE failed: $(cat /tmp/perf-beside.log)"
		fi
		if { printf '%s\n' "$PERF_OUT"; cat /tmp/perf-server.log; } |
			grep -q "Can't produce a report"; then
			echo "# $*: clock calibration failed, retry $try"
			continue
		fi
		[ "$rc" -eq 0 ] || fail "$* client failed (exit $rc): $PERF_OUT
server: $(cat /tmp/perf-server.log)"
		[ "$src" -eq 0 ] || fail "$* server failed: $(cat /tmp/perf-server.log)"
		return 0
	done
	fail "$*: clock calibration failed 3 times: $PERF_OUT"
}

# perf_row LABEL [SIZE]: the first result row of PERF_OUT (message size
# SIZE, or any size) into PERF_ROW; no such row fails the test, naming LABEL.
perf_row() {
	PERF_ROW=$(awk -v s="${2:-}" \
		'(s == "" ? $1 ~ /^[0-9]+$/ : $1 == s) && $2 ~ /^[0-9]+$/ && NF >= 4' \
		<<<"$PERF_OUT" | head -n 1)
	[ -n "$PERF_ROW" ] || fail "$1: no result row: $PERF_OUT"
}

# run_prog DIR PROGRAM ARGS...: a C test program (exit statuses of
# tests/lib/t_status.h) that is expected to run, under a timeout of
# PROG_TIMEOUT seconds (900): fails the test on a non-zero exit (a skip
# included) or a SKIP line; else prints the program's "# " notes and its
# summary line with the time it took.  Its output is left in PROG_OUT.
# With PROG_ROOT set, the program runs chrooted there (DIR is a path
# inside that root).
run_prog() {
	local dir=$1 prog=$2 t0=$SECONDS
	local -a wrap=()
	shift 2
	[ -z "${PROG_ROOT:-}" ] || wrap=(chroot "$PROG_ROOT")
	[ -x "${PROG_ROOT:-}$dir/$prog" ] || fail "${PROG_ROOT:-}$dir/$prog not built"
	PROG_OUT=$(timeout "${PROG_TIMEOUT:-900}" "${wrap[@]}" "$dir/$prog" "$@" 2>&1) ||
		fail "$prog $* failed (exit $?):
$(grep -v '^PASS' <<<"$PROG_OUT")"
	! grep -q '^SKIP' <<<"$PROG_OUT" ||
		fail "$prog $* skipped: $(grep '^SKIP' <<<"$PROG_OUT")"
	grep '^# ' <<<"$PROG_OUT" || true
	echo "# $prog $*: $(tail -n 1 <<<"$PROG_OUT") ($((SECONDS - t0)) s)"
}

# run_reference DIR PROG ARGS...: as run_prog, for a run on stock rdma_rxe
# whose OUT lines are the reference a softodp run is compared with
# (outcomes, same): a check that rxe itself fails is shown, not failed
# (it is rxe's behaviour).
run_reference() {
	local dir=$1 prog=$2
	local -a wrap=()
	shift 2
	[ -z "${PROG_ROOT:-}" ] || wrap=(chroot "$PROG_ROOT")
	PROG_OUT=$(timeout "${PROG_TIMEOUT:-300}" "${wrap[@]}" "$dir/$prog" "$@" 2>&1)
	grep -E '^(FAIL|NOTE) ' <<<"$PROG_OUT" | sed 's/^/# rxe: /' || true
	echo "# rxe: $prog $*: $(tail -n 1 <<<"$PROG_OUT")"
}

# outcomes: the "OUT name outcome" lines of the last run (PROG_OUT), sorted,
# the memory kind dropped from the names (pinned and ODP compare alike).
outcomes() {
	grep '^OUT ' <<<"$PROG_OUT" | sed -E 's/_(pinned|odp)( |$)/\2/' | sort -u
}

# same WHAT FILE_A FILE_B: the outcomes in the two files agree, or the test
# fails with the difference.
same() {
	local d
	d=$(diff "$2" "$3") || fail "$1: outcomes differ (< rxe, > softodp):
$d"
	echo "# $1: $(wc -l <"$2") outcomes equal"
}

# two_netns [--peer softodp|rxe] [--mtu N]: softodp afresh
# (reset_softodp sodpa sodpb) with sodp0 on v0 (192.0.2.1/24) in namespace
# sodpa, loopback up; v0's veth peer v1 (192.0.2.2/24) is in namespace
# sodpb with sodp1 on it (--peer softodp, the default), or in init_net with
# stock rdma_rxe's rxe0 (--peer rxe: rdma_rxe of 6.1/6.12 works in init_net
# only).  Both veth ends get MTU N (default veth's 1500).  Both RoCEv2 GIDs
# are in place on return.
two_netns() {
	local peer=softodp mtu=
	while [ $# -gt 0 ]; do
		case "$1" in
		--peer) peer=$2; shift 2 ;;
		--mtu) mtu=$2; shift 2 ;;
		*) fail "two_netns: unknown argument '$1'" ;;
		esac
	done
	reset_softodp sodpa sodpb
	ip netns add sodpa
	ip link add v0 ${mtu:+mtu "$mtu"} type veth peer name v1 ${mtu:+mtu "$mtu"}
	ip link set v0 netns sodpa
	ip -n sodpa addr add 192.0.2.1/24 dev v0
	ip -n sodpa link set v0 up
	ip -n sodpa link set lo up
	ip netns exec sodpa rdma link add sodp0 type softodp netdev v0
	case "$peer" in
	softodp)
		ip netns add sodpb
		ip link set v1 netns sodpb
		ip -n sodpb addr add 192.0.2.2/24 dev v1
		ip -n sodpb link set v1 up
		ip -n sodpb link set lo up
		ip netns exec sodpb rdma link add sodp1 type softodp netdev v1
		wait_gid sodp1 192.0.2.2
		;;
	rxe)
		ip addr add 192.0.2.2/24 dev v1
		ip link set v1 up
		modprobe rdma_rxe || fail "rdma_rxe does not load"
		rdma link add rxe0 type rxe netdev v1
		wait_gid rxe0 192.0.2.2
		;;
	*) fail "two_netns: --peer softodp or rxe, not '$peer'" ;;
	esac
	wait_gid sodp0 192.0.2.1
}

# memory_pressure BIN SECONDS: memory pressure for SECONDS - BIN/odp_traffic
# --pressure mapping, touching and unmapping 64 MiB chunks, drop_caches and
# compaction (which migrates pages and so invalidates ODP MRs on them);
# its status is odp_traffic's.
memory_pressure() {
	local end=$((SECONDS + $2)) pid
	"$1/odp_traffic" --pressure "$2" &
	pid=$!
	while [ "$SECONDS" -lt "$end" ]; do
		echo 3 >/proc/sys/vm/drop_caches
		[ -w /proc/sys/vm/compact_memory ] && echo 1 >/proc/sys/vm/compact_memory
		sleep 0.2
	done
	wait "$pid"
}

# hw_counter DEV NAME: the value of port 1's hardware counter NAME of DEV.
hw_counter() {
	cat "/sys/class/infiniband/$1/ports/1/hw_counters/$2"
}

# faults_rose DEV BEFORE WHAT: DEV's odp_page_faults went up from BEFORE.
faults_rose() {
	local now
	now=$(hw_counter "$1" odp_page_faults)
	[ "$now" -gt "$2" ] || fail "$3: odp_page_faults of $1 stayed at $2: not served by ODP"
	echo "# $3: $((now - $2)) ODP page faults on $1"
}

# mpirun options for Open MPI over UCX on a device it ranks low (anything
# but mlx5): pml and osc ucx on any device, no openib/ofi components.
MPI_UCX_ARGS=(--mca pml ucx --mca pml_ucx_devices any --mca osc ucx
	--mca btl ^openib,ofi --mca mtl ^ofi -x UCX_WARN_UNUSED_ENV_VARS=n)

# The softodp provider, switched the way an administrator does it: the
# softodp-provider script SELECT enables the library PROVIDER_LIB (its path
# without -rdmavNN.so) or disables it again, in the guest's root or, with
# IN_ROOT set to a command prefix (a chroot), in that root.  fw_of DEV is
# DEV's firmware string as libibverbs reports it: "softodp 0.1" (the
# kernel's string) from the provider, "0.0.0" from librxe.
provider_on() {
	"${IN_ROOT[@]}" "$SELECT" enable --lib "$PROVIDER_LIB" >/dev/null ||
		fail "softodp-provider enable --lib $PROVIDER_LIB failed${IN_ROOT:+ in ${IN_ROOT[*]}}"
}
provider_off() {
	"${IN_ROOT[@]}" "$SELECT" disable >/dev/null ||
		fail "softodp-provider disable failed${IN_ROOT:+ in ${IN_ROOT[*]}}"
}
fw_of() {	# DEV
	"${IN_ROOT[@]}" ibv_devinfo -d "$1" | sed -n 's/^[[:space:]]*fw_ver:[[:space:]]*//p'
}

# --- a whole suite through the softodp provider ----------------------------
# SOFTODP_SUITE_PROVIDER=1 (make check sets it for some suites on each
# kernel: README, "Which suites run on which kernel"): the suite runs with
# the softodp provider selected the way an administrator selects it, so each
# softodp device its programs open is driven by the provider instead of
# librxe (stock rxe devices stay with librxe).  Before any test (and
# whatever the suite's filter), a softodp device of its own must then show
# the provider's fw_ver.  Sourced before the suite defines SELECT, so the
# paths are the build's own.
suite_provider_check() {
	local fw loaded=1
	module_loaded softodp || { loaded=0; modprobe softodp; }
	ip link add sodppv0 type veth peer name sodppv1
	rdma link add sodppv type softodp netdev sodppv0
	fw=$(fw_of sodppv)
	rdma link delete sodppv
	ip link del sodppv0
	[ "$loaded" = 1 ] || rmmod softodp
	expect_eq "fw_ver of a softodp device, provider selected" "softodp 0.1" "$fw"
	echo "# the softodp provider is selected for the whole suite (fw_ver '$fw')"
}
if [ -n "${SOFTODP_SUITE_PROVIDER:-}" ]; then
	SUITE_PROVIDER_BUILD=${SOFTODP_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
	SELECT=$SUITE_PROVIDER_BUILD/providers/softodp/softodp-provider
	PROVIDER_LIB=$SUITE_PROVIDER_BUILD/providers/softodp/libsoftodp
	IN_ROOT=()
	provider_on
	suite_provider_check
fi
