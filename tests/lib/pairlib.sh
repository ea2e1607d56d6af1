# SPDX-License-Identifier: GPL-2.0
#
# Helpers for commands run by tests/vm/vm-pair on both guests (bash).  The
# two sides meet in /run/pair, a host directory both guests mount: a value
# is a file written whole (tmp + rename), read by polling.

PAIR_DIR=${PAIR_DIR:-/run/pair}
PAIR_SIDE=${SOFTODP_PAIR_SIDE:-}
PAIR_ADDR=${SOFTODP_PAIR_ADDR:-}
PAIR_PEER=${SOFTODP_PAIR_PEER:-}
PAIR_WAIT=${PAIR_WAIT:-300}

pair_other() { [ "$PAIR_SIDE" = a ] && echo b || echo a; }

# pair_put NAME VALUE: publish VALUE under NAME (this side's).
pair_put() {
	printf '%s\n' "$2" >"$PAIR_DIR/.$1.$PAIR_SIDE.tmp" &&
		mv "$PAIR_DIR/.$1.$PAIR_SIDE.tmp" "$PAIR_DIR/$1.$PAIR_SIDE"
}

# pair_get NAME: the other side's value of NAME, waiting up to PAIR_WAIT s;
# fails if it never comes.
pair_get() {
	local f=$PAIR_DIR/$1.$(pair_other) end=$((SECONDS + PAIR_WAIT))
	# A deadline, not a count of polls: a poll costs a guest several times
	# its 0.1 s.
	while [ "$SECONDS" -lt "$end" ]; do
		[ -f "$f" ] && { cat "$f"; return 0; }
		sleep 0.1
	done
	echo "pair: side $(pair_other) never published '$1'" >&2
	return 1
}

# pair_barrier NAME: both sides reach NAME before either goes on.
pair_barrier() {
	pair_put "barrier-$1" 1 && pair_get "barrier-$1" >/dev/null
}

# pair_net_up: the virtio-net link as "pair0" with this side's address,
# and the peer reachable (ping).
pair_net_up() {
	local dev i
	[ -n "$PAIR_SIDE" ] || { echo "pair: not run by vm-pair" >&2; return 1; }
	modprobe virtio_net 2>/dev/null
	for i in $(seq 50); do
		dev=$(ip -o link | awk -v m="${SOFTODP_PAIR_MAC}" 'tolower($0) ~ m { sub(":", "", $2); print $2; exit }')
		[ -n "$dev" ] && break
		sleep 0.1
	done
	[ -n "$dev" ] || { echo "pair: no link with MAC $SOFTODP_PAIR_MAC" >&2; return 1; }
	[ "$dev" = pair0 ] || ip link set "$dev" name pair0 || return 1
	ip addr add "$PAIR_ADDR/24" dev pair0 && ip link set pair0 up || return 1
	for i in $(seq 100); do
		ping -c 1 -W 1 "$PAIR_PEER" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "pair: $PAIR_PEER does not answer on pair0" >&2
	return 1
}

# pair_rsh_serve TAG: run the commands tests/lib/pair-rsh sends from the
# other side under TAG (files rsh-TAG-ID.cmd, as the remote shell of ssh
# would: bash -c), each in the background, publishing its output and exit
# status, until the other side publishes rsh-stop-TAG.  Fails if a command
# exited non-zero.
pair_rsh_serve() {
	local tag=$1 f n bad=0
	while [ ! -f "$PAIR_DIR/rsh-stop-$tag.$(pair_other)" ]; do
		for f in "$PAIR_DIR/rsh-$tag-"*.cmd; do
			[ -f "$f" ] || continue
			n=${f%.cmd}
			mv "$f" "$n.run" || continue
			(
				bash -c "$(cat "$n.run")" >"$n.out" 2>&1 </dev/null
				echo $? >"$n.rc.tmp" && mv "$n.rc.tmp" "$n.rc"
			) &
		done
		sleep 0.1
	done
	wait
	for f in "$PAIR_DIR/rsh-$tag-"*.rc; do
		[ -f "$f" ] || continue
		[ "$(cat "$f")" = 0 ] || { echo "pair-rsh: '$(cat "${f%.rc}.run")' exit $(cat "$f"): $(tail -n 5 "${f%.rc}.out")" >&2; bad=1; }
	done
	return $bad
}

# The commands below work with the caller's globals SIDE (a or b), DEV,
# DRIVER (softodp or rxe), PORT (a TCP port for servers), SRV (the serving
# side) and set GIDX (DEV's GID index) and LAST (the client's output).

# next_step: a number both sides count the same way (tests run in
# subshells: the count lives in a file); pair_steps_reset starts it.
pair_steps_reset() {
	rm -f /tmp/pair-step
}

next_step() {
	local n
	n=$(($(cat /tmp/pair-step 2>/dev/null || echo 0) + 1))
	echo "$n" >/tmp/pair-step
	echo "$n"
}

# The index of DEV's RoCEv2 GID for this side's IPv4 address.
gid_index() {
	local f n
	for f in /sys/class/infiniband/$DEV/ports/1/gids/*; do
		n=${f##*/}
		case "$(cat "$f" 2>/dev/null)" in
		*"$(printf '%02x%02x:%02x%02x' ${PAIR_ADDR//./ })") ;;
		*) continue ;;
		esac
		grep -q 'v2' "/sys/class/infiniband/$DEV/ports/1/gid_attrs/types/$n" 2>/dev/null &&
			{ echo "$n"; return 0; }
	done
	return 1
}

device_up() {
	case "$DRIVER" in
	softodp) modprobe softodp && rdma link add sodp0 type softodp netdev pair0 ;;
	rxe) modprobe rdma_rxe && rdma link add rxe0 type rxe netdev pair0 ;;
	esac || fail "cannot create $DEV on pair0"
	wait_gid "$DEV" "$PAIR_ADDR"
	GIDX=$(gid_index) || fail "no RoCEv2 IPv4 GID index on $DEV"
}

# device_down: DEV deleted and its driver's module unloaded.
device_down() {
	rdma link delete "$DEV" || fail "rdma link delete $DEV"
	case "$DRIVER" in
	softodp) rmmod softodp ;;
	rxe) rmmod rdma_rxe ;;
	esac || fail "cannot unload the $DRIVER module"
}

# both NAME SERVER-CMD CLIENT-CMD: side $SRV runs SERVER-CMD in the
# background and says when it listens on PORT (TCP; rdma_cm for rping and
# perftest -R); the other side runs CLIENT-CMD against it.  Both
# sides learn the client's status; a non-zero one fails the test on both
# sides, with the output of each.  CMDs are eval'd with $DEV, $GIDX,
# $PAIR_PEER, $PAIR_ADDR.  The client's output is in LAST afterwards.
both() {
	local name=$1 srv=$2 cli=$3 rc out pid
	name=$(next_step)-$(tr -c 'A-Za-z0-9_.-' '_' <<<"$name")
	GIDX=$(gid_index) || fail "no RoCEv2 IPv4 GID index on $DEV"
	LAST=
	if [ "$SIDE" = "$SRV" ]; then
		eval "timeout 280 stdbuf -oL -eL $srv" >"/tmp/pair-srv.log" 2>&1 &
		pid=$!
		case "$srv" in
		rping*) wait_cm_listen "$PORT" ;;
		# perftest -R (seen with ib_send_bw -R between the guests):
		# a connection that arrives right after the server's rdma_cm
		# ID listens can be rejected (invalid service ID) and the
		# client's librdmacm then crashes; 3 s more avoid it.
		*" -R "*) wait_cm_listen "$PORT" && sleep 3 ;;
		*) wait_listen "$PORT" ;;
		esac || {
			kill "$pid" 2>/dev/null
			pair_put "ready-$name" failed
			fail "$name: server did not listen: $(cat /tmp/pair-srv.log)"
		}
		pair_put "ready-$name" 1
		rc=$(pair_get "done-$name") || { kill "$pid"; fail "$name: the client never finished"; }
		timeout 60 tail --pid="$pid" -f /dev/null 2>/dev/null || kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		[ "$rc" = 0 ] || fail "$name: client exit $rc; server: $(tail -n 5 /tmp/pair-srv.log)"
	else
		[ "$(pair_get "ready-$name")" = 1 ] || fail "$name: the server did not start"
		out=$(eval "timeout 280 $cli" 2>&1) && rc=0 || rc=$?
		pair_put "done-$name" "$rc"
		[ "$rc" = 0 ] || fail "$name: exit $rc: $(tail -n 8 <<<"$out")"
		LAST=$out
	fi
}

