#!/bin/sh
# capture.sh records real keepalived adverts as test vectors for packet_test.go.
# Run as root from this directory: ./capture.sh
# It builds two namespaces (vw-ka runs keepalived, vw-kb captures) linked by a
# veth, runs keepalived with ka.conf (v2 unicast PASS, v2 multicast, v3 IPv4
# unicast+multicast, v3 IPv6 unicast+multicast) for a few seconds and writes
# keepalived.pcap. Only documentation addresses are used.
set -eu
KA=vw-ka KB=vw-kb
RUN=$(mktemp -d /tmp/vw-ka.XXXXXX)
cleanup() {
	[ -f "$RUN/keepalived.pid" ] && kill "$(cat "$RUN/keepalived.pid")" 2>/dev/null || true
	[ -n "${TCPDUMP:-}" ] && kill "$TCPDUMP" 2>/dev/null || true
	sleep 1
	ip netns del $KA 2>/dev/null || true
	ip netns del $KB 2>/dev/null || true
	rm -rf "$RUN"
}
trap cleanup EXIT INT TERM
ip netns add $KA
ip netns add $KB
ip link add vw-ka0 netns $KA type veth peer name vw-kb0 netns $KB
for ns in $KA $KB; do
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n $ns link set lo up
done
ip -n $KA link set vw-ka0 address 02:00:00:00:0a:01
ip -n $KB link set vw-kb0 address 02:00:00:00:0b:01
ip -n $KA addr add 192.0.2.1/24 dev vw-ka0
ip -n $KA addr add 2001:db8::1/64 dev vw-ka0 nodad
ip -n $KB addr add 192.0.2.2/24 dev vw-kb0
ip -n $KB addr add 2001:db8::2/64 dev vw-kb0 nodad
ip -n $KA link set vw-ka0 up
ip -n $KB link set vw-kb0 up
sleep 1
ip netns exec $KB tcpdump -i vw-kb0 -U -w "$RUN/keepalived.pcap" ip proto 112 or ip6 proto 112 2>/dev/null &
TCPDUMP=$!
sleep 1
ip netns exec $KA keepalived -n -l -D -P -f "$PWD/ka.conf" -p "$RUN/keepalived.pid" -r "$RUN/vrrp.pid" >"$RUN/keepalived.log" 2>&1 &
sleep 8
kill "$(cat "$RUN/keepalived.pid")"
sleep 2
kill $TCPDUMP
wait $TCPDUMP || true
cp "$RUN/keepalived.pcap" keepalived.pcap
