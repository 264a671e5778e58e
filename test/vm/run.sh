#!/usr/bin/env bash
# vipd kernel VM runner: boots a small qemu VM with a Debian cloud kernel (which has IP_VS and all
# its schedulers, veth, bridge, conntrack: what CI and development kernels often lack) and runs one
# program in it as root (PID 1's child). The program's output is streamed, its exit status is ours.
#
# usage: test/vm/run.sh [-m MODULE]... [-f FILE]... [-e NAME=VALUE]... [-t SECONDS] PROGRAM [ARG]...
#
#   PROGRAM   a static executable, e.g. `CGO_ENABLED=0 go test -c -o /tmp/lvs.test ./lvs/`, or a
#             #!/bin/sh script (busybox is the VM's userland).
#   -m        load this module too (ip_vs, every ip_vs scheduler, veth, bridge, dummy are always loaded)
#   -f        copy FILE into the VM as /opt/<name> (a dynamically linked one brings its libraries)
#   -e        set this environment variable for PROGRAM (VIPD_IN_VM=1 is always set)
#   -t        give up after SECONDS (default 600): exit 124
#
# Exit status: PROGRAM's; 77 with "skip: qemu cannot run here" only when qemu cannot be installed or
# started at all; 124 on timeout; 125 when the VM could not be prepared or did not report a status.
# Needs: qemu-system-x86 and busybox-static (installed with apt-get when missing), apt-get download
# for the kernel package (cached in $VIPD_VM_CACHE, default ~/.cache/vipd-vm). The VM uses software
# emulation (TCG); VIPD_VM_ACCEL=kvm uses KVM when /dev/kvm works. VIPD_VM_KEEP=1 keeps the work dir.
# VIPD_VM_TSC=1 gives the guest "-cpu max" and the TSC clock source (under TCG the default CPU's
# only clocks trap on every read, which inflates CPU figures of Go programs: use it for benchmarks).
set -euo pipefail

say() { echo "vipd-vm: $*" >&2; }
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

modules=(ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh
  ip_vs_sed ip_vs_nq ip_vs_mh ip_vs_fo ip_vs_ovf veth bridge dummy)
extra_files=()
envs=(VIPD_IN_VM=1)
limit=600
while getopts "m:f:e:t:h" opt; do
  case $opt in
    m) modules+=("$OPTARG") ;;
    f) extra_files+=("$(readlink -f "$OPTARG")") ;;
    e) envs+=("$OPTARG") ;;
    t) limit=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
program=$(readlink -f "$1")
shift
[ -f "$program" ] && [ -x "$program" ] || { say "$program: not an executable file"; exit 2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

# 1. Tools: qemu and a static busybox.
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
# The VM has no shared libraries: busybox must be the static build.
static_busybox() { [ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1; }
busybox=/bin/busybox
static_busybox "$busybox" || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >/dev/null 2>&1 || true
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || say "apt-get install ${missing[*]} failed"
  busybox=/bin/busybox
fi
if ! qemu-system-x86_64 -version >/dev/null 2>&1; then
  echo "skip: qemu cannot run here (qemu-system-x86_64 is missing or does not start)"
  exit 77
fi
[ -x "$busybox" ] || { say "no static busybox (apt-get install busybox-static)"; exit 125; }

# 2. The kernel: the Debian cloud kernel package, fetched once with apt-get download.
cache=${VIPD_VM_CACHE:-$HOME/.cache/vipd-vm}
mkdir -p "$cache"
kernel_root=$cache/kernel
# Concurrent runs share the cache: one fetches, the others wait.
if command -v flock >/dev/null; then exec 9>"$cache/.lock" && flock 9; fi
moddir=$(find "$kernel_root/lib/modules" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1 || true)
if [ -z "$moddir" ] || ! ls "$kernel_root"/boot/vmlinuz-* >/dev/null 2>&1; then
  say "fetching the Debian cloud kernel into $cache (once)"
  image_pkg() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}'; }
  pkg=$(image_pkg)
  if [ -z "$pkg" ]; then
    as_root apt-get update -qq >/dev/null 2>&1 || true
    pkg=$(image_pkg)
  fi
  [ -n "$pkg" ] || { say "apt-cache knows no linux-image-cloud-amd64 (a Debian apt source is needed)"; exit 125; }
  dl=$(mktemp -d "$cache/dl.XXXXXX")
  (cd "$dl" && apt-get download -qq "$pkg" >/dev/null 2>&1) || { rm -rf "$dl"; say "apt-get download $pkg failed"; exit 125; }
  rm -rf "$kernel_root"
  dpkg-deb -x "$dl"/*.deb "$kernel_root"
  rm -rf "$dl"
  moddir=$(find "$kernel_root/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)
fi
if command -v flock >/dev/null; then flock -u 9; fi
kver=$(basename "$moddir")
vmlinuz=$kernel_root/boot/vmlinuz-$kver
[ -r "$vmlinuz" ] || { say "missing $vmlinuz"; exit 125; }

# 3. The initramfs: busybox, the kernel's network modules, the program, an init script.
work=$(mktemp -d "${TMPDIR:-/tmp}/vipd-vm.XXXXXX")
if [ -n "${VIPD_VM_KEEP:-}" ]; then say "work dir $work"; else trap 'rm -rf "$work"' EXIT; fi
root=$work/root
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,opt,etc,lib/modules/"$kver"}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
ln -s ../bin/modprobe "$root/sbin/modprobe"
(cd "$moddir" && cp -r --parents kernel/net kernel/drivers/net kernel/lib kernel/crypto modules.order modules.builtin "$root/lib/modules/$kver/" 2>/dev/null || true)
# busybox modprobe cannot read compressed modules: store them plain.
find "$root/lib/modules" -name '*.ko.xz' -exec xz -d {} + 2>/dev/null || true
find "$root/lib/modules" -name '*.ko.zst' -exec zstd -q -d --rm {} + 2>/dev/null || true
"$busybox" depmod -b "$root" "$kver"
cp "$program" "$root/program"
for f in ${extra_files[@]+"${extra_files[@]}"}; do cp -r "$f" "$root/opt/"; done
# Dynamically linked programs (e.g. -f /usr/sbin/keepalived) bring their shared libraries.
for f in "$program" ${extra_files[@]+"${extra_files[@]}"}; do
  [ -f "$f" ] || continue
  for lib in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' || true); do
    [ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
done
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"
{
  echo '#!/bin/sh'
  echo 'mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev 2>/dev/null'
  echo 'mount -t tmpfs tmp /tmp; mount -t tmpfs run /run; ip link set lo up'
  echo 'echo "vipd-vm: program starts"'
  for m in "${modules[@]}"; do printf 'modprobe %q 2>/dev/null || echo "vipd-vm: cannot load module %q"\n' "$m" "$m"; done
  printf 'cd / && env'
  for e in "${envs[@]}"; do printf ' %q' "$e"; done
  printf ' /program'
  for a in "$@"; do printf ' %q' "$a"; done
  echo
  echo 'echo "vipd-vm: program exited $?"'
  echo 'sync; poweroff -f'
} > "$root/init"
chmod 755 "$root/init"
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1 > "$work/initramfs")

# 4. Boot; stream what the program prints; take its status from the console.
accel=(-accel tcg)
cmdline="console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init"
if [ "${VIPD_VM_TSC:-}" = 1 ]; then accel=(-accel tcg -cpu max); cmdline="$cmdline tsc=reliable clocksource=tsc"; fi
if [ "${VIPD_VM_ACCEL:-}" = kvm ] && [ -w /dev/kvm ]; then accel=(-accel kvm -cpu host); fi
console=$work/console
set +e
timeout --foreground "$limit" qemu-system-x86_64 "${accel[@]}" -m 1024 -smp 2 -nodefaults -no-user-config \
  -display none -no-reboot -serial stdio -kernel "$vmlinuz" -initrd "$work/initramfs" \
  -append "$cmdline" </dev/null 2>&1 |
  tee "$console" |
  awk '{ sub(/\r$/, "") } /^vipd-vm: program exited / { exit } on { print; fflush() } /^vipd-vm: program starts/ { on = 1 }'
qemu_status=${PIPESTATUS[0]}
set -e
status=$(tr -d '\r' < "$console" | sed -n 's/^vipd-vm: program exited \([0-9]*\)$/\1/p' | tail -n1)
if [ -z "$status" ]; then
  tr -d '\r' < "$console" | tail -n 40 >&2
  if [ "$qemu_status" = 124 ]; then say "timed out after ${limit}s"; exit 124; fi
  if ! grep -q 'vipd-vm: program starts' "$console"; then
    say "the VM did not boot (qemu status $qemu_status)"
  else
    say "the VM ended without reporting the program's status (qemu status $qemu_status)"
  fi
  exit 125
fi
exit "$status"
