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
	local f=$PAIR_DIR/$1.$(pair_other) i
	for ((i = 0; i < PAIR_WAIT * 10; i++)); do
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
