#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/build-guest.sh - a tiny Linux guest for QEMU tests against vhostmq:
# Debian's kernel (uncompressed vmlinux when it can be extracted: saves ~3 s
# under TCG; QEMU boots it through its PVH note) and an initramfs holding
# busybox-static, ethtool with its libraries, the virtio-net modules and the
# guest scripts of tests/vm/guest/.
#
# Usage: build-guest.sh OUTDIR
# Writes OUTDIR/{kernel,initramfs.cpio.gz,kernel.name,cache.key}. Cached: when
# OUTDIR/cache.key matches (package versions, kernel release, the hashes of
# this script and of tests/vm/guest/*) nothing is rebuilt. Installs missing
# Debian packages with apt-get (needs root and a reachable mirror).
# Environment: VHOSTMQ_VM_KVER=RELEASE picks a kernel from /lib/modules
# (default: the one linux-image-amd64 depends on, else the newest installed);
# VHOSTMQ_VM_BZIMAGE=1 skips the vmlinux extraction.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
guestsrc=$here/guest
pkgs=(qemu-system-x86 linux-image-amd64 busybox-static ethtool cpio)
# Load order matters: insmod does not resolve dependencies.
mods=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
      failover net_failover virtio_net)

log() { echo "build-guest: $*" >&2; }
pkgver() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null |
	   awk '$3 == "installed" { print $4 }'; }

# 1. packages
missing=()
for p in "${pkgs[@]}"; do
	[ -n "$(pkgver "$p")" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! timeout 600 apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
		timeout 300 apt-get update >&2
		timeout 600 apt-get install -y --no-install-recommends "${missing[@]}" >&2
	fi
fi

# 2. which kernel
kver=${VHOSTMQ_VM_KVER:-}
if [ -z "$kver" ]; then
	kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	       grep -o 'linux-image-[^ ,]*' | head -1 | sed 's/^linux-image-//')
	if [ -z "$kver" ] || [ ! -e "/boot/vmlinuz-$kver" ]; then
		kver=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -1)
	fi
fi
vmlinuz=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
[ -r "$vmlinuz" ] && [ -d "$moddir" ] || { log "no kernel $kver (want $vmlinuz and $moddir)"; exit 1; }
kpkg=$(dpkg-query -S "$vmlinuz" 2>/dev/null | cut -d: -f1 | head -1)

# 3. cache key
key=$( {
	for p in "${pkgs[@]}" ${kpkg:+"$kpkg"}; do echo "$p=$(pkgver "$p")"; done
	echo "kernel=$kver bzimage=${VHOSTMQ_VM_BZIMAGE:-0}"
	sha256sum "${BASH_SOURCE[0]}" "$guestsrc"/* | awk '{ print $1 }'
      } | sha256sum | awk '{ print $1 }')
if [ -f "$out/cache.key" ] && [ "$(cat "$out/cache.key")" = "$key" ] &&
   [ -s "$out/kernel" ] && [ -s "$out/initramfs.cpio.gz" ]; then
	log "up to date: $out ($(cat "$out/kernel.name"), key ${key:0:12})"
	exit 0
fi

mkdir -p "$out"
stage=$(mktemp -d "${TMPDIR:-/tmp}/vhostmq-guest.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# 4. kernel: the bzImage's payload (setup header: payload_offset at 0x248,
# payload_length at 0x24c, after (setup_sects + 1) * 512 bytes) decompressed
# is the ELF vmlinux. Falls back to the bzImage on any doubt.
kname=bzImage
if [ "${VHOSTMQ_VM_BZIMAGE:-0}" != 1 ] &&
   python3 - "$vmlinuz" "$stage/vmlinux" <<'PY'
import gzip, lzma, shutil, struct, subprocess, sys
d = open(sys.argv[1], 'rb').read()
if d[0x202:0x206] != b'HdrS':
    sys.exit(1)
setup = d[0x1f1] or 4
off, ln = struct.unpack_from('<II', d, 0x248)
p = d[(setup + 1) * 512 + off:][:ln]
if p[:6] == b'\xfd7zXZ\x00':
    dec = lzma.LZMADecompressor(lzma.FORMAT_XZ)
    v = dec.decompress(p)
elif p[:2] == b'\x1f\x8b':
    dec = gzip.zlib.decompressobj(16 + 15)
    v = dec.decompress(p)
elif p[:4] == b'\x28\xb5\x2f\xfd' and shutil.which('zstd'):
    v = subprocess.run(['zstd', '-dc'], input=p, capture_output=True).stdout
else:
    sys.exit(1)
if v[:4] != b'\x7fELF':
    sys.exit(1)
open(sys.argv[2], 'wb').write(v)
PY
then
	kname=vmlinux
	mv "$stage/vmlinux" "$stage/kernel"
else
	[ "${VHOSTMQ_VM_BZIMAGE:-0}" = 1 ] || log "vmlinux extraction not possible: using the bzImage"
	cp "$vmlinuz" "$stage/kernel"
fi

# 5. initramfs
root=$stage/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules,tests}
cp /bin/busybox "$root/bin/busybox"
for a in $("$root/bin/busybox" --list-full); do
	[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
done
ethtool=$(command -v ethtool || echo /usr/sbin/ethtool)
rm -f "$root/usr/sbin/ethtool" "$root/sbin/ethtool"
cp "$ethtool" "$root/usr/sbin/ethtool"
# Every library ldd names, at the path the loader will look for it.
for lib in $(ldd "$ethtool" | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
for m in "${mods[@]}"; do
	f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -1)
	[ -n "$f" ] || { log "module $m not found under $moddir"; exit 1; }
	case $f in
	*.xz)  xz -dc "$f" ;;
	*.zst) zstd -dcq "$f" ;;
	*.gz)  gzip -dc "$f" ;;
	*)     cat "$f" ;;
	esac >"$root/lib/modules/$m.ko"
done
printf '%s\n' "${mods[@]}" >"$root/lib/modules/order"
install -m 755 "$guestsrc/init" "$root/init"
for t in "$guestsrc"/*.sh; do
	install -m 755 "$t" "$root/tests/$(basename "$t")"
done
echo "vhostmq-guest kernel=$kver" >"$root/etc/vhostmq-guest"
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner 0:0 --quiet) | gzip -6 >"$stage/initramfs.cpio.gz"

# 6. publish (kernel and initramfs first, key last)
rm -f "$out/cache.key"
mv "$stage/kernel" "$out/kernel"
mv "$stage/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
echo "$kname $kver" >"$out/kernel.name"
echo "$key" >"$out/cache.key"
log "built $out: $kname $kver, initramfs $(du -k "$out/initramfs.cpio.gz" | cut -f1) KiB"
