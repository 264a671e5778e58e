#!/bin/bash
# Compare vipd's check scheduler with keepalived's checker (TCP_CHECK) on the
# same N real servers at delay_loop 1s, inside the kernel VM (keepalived's
# checker needs IP_VS, which the host kernel lacks).
#
#   checks/internal/bench/vm-compare.sh [N]      # default N=100; needs keepalived (apt)
#
# Inside one VM boot: N listeners (tcpbench -serve, own process) on
# 192.0.2.10:20000.., then keepalived -C with a generated keepalived.conf
# (one virtual server, N real servers with TCP_CHECK) measured for 30 s via
# /proc/PID/stat, then vipd (tcpbench -external) measured for 30 s with
# GOMAXPROCS 2 and 1. The listeners' accept rate shows both did the same work.
#
# Under qemu TCG the default CPU's only clock sources are hpet/acpi_pm: every
# clock read traps, which punishes Go's runtime (it reads the clock far more
# often than keepalived). The project's runner (test/vm/run.sh) is started
# with VIPD_VM_TSC=1: "-cpu max" and tsc=reliable, so the guest uses the TSC.
set -euo pipefail
N=${1:-100}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
runner=$repo/test/vm/run.sh
command -v keepalived >/dev/null || { echo "vm-compare: keepalived is not installed (apt-get install keepalived)" >&2; exit 2; }
work=$(mktemp -d /tmp/vc-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$repo" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$work/tcpbench" ./checks/internal/bench/tcpbench)
"$work/tcpbench" -conf "$work/k.conf" -n "$N" -addr 192.0.2.10 -base 20000
cat > "$work/compare.sh" <<EOF
#!/bin/sh
N=$N; W=30
mkdir -p /etc; echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd; echo "root:x:0:" > /etc/group
ulimit -n 65536
echo "clocksource: \$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
ip addr add 192.0.2.10/32 dev lo
sleep 100000 | /opt/tcpbench -serve -n \$N -addr 192.0.2.10 -base 20000 -count-file /tmp/acc > /tmp/ready &
i=0; while [ ! -s /tmp/ready ] && [ \$i -lt 100 ]; do sleep 0.2; i=\$((i+1)); done
/opt/keepalived -n -G -C -f /opt/k.conf -p /tmp/k.pid -c /tmp/c.pid > /tmp/k.log 2>&1 &
sleep 12
echo "keepalived: ipvs real servers \$(grep -c -- '->' /proc/net/ip_vs)"
a=\$(cat /tmp/acc)
echo "keepalived: \$(/opt/tcpbench -pid \$(cat /tmp/c.pid) -window \${W}s)"
b=\$(cat /tmp/acc); echo "keepalived: listener accepts/s \$(( (b-a)/W ))"
kill \$(cat /tmp/k.pid); sleep 4
for g in 2 1; do
  GOMAXPROCS=\$g /opt/tcpbench -external -n \$N -addr 192.0.2.10 -base 20000 -warmup 5s -window \${W}s > /tmp/v.out 2>&1 & VP=\$!
  sleep 5; a=\$(cat /tmp/acc); sleep \$W; b=\$(cat /tmp/acc)
  wait \$VP
  echo "GOMAXPROCS=\$g \$(grep vipd: /tmp/v.out) listener accepts/s \$(( (b-a)/W ))"
done
EOF
chmod +x "$work/compare.sh"
cd "$work" && VIPD_VM_TSC=1 "$runner" -t 400 -f "$(command -v keepalived)" -f "$work/k.conf" -f "$work/tcpbench" ./compare.sh
