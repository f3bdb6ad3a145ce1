#!/usr/bin/env bash
# Runs the README's two commands as a new user would: in a minimal, fresh Debian 12 root
# (debootstrap --variant=minbase bookworm) holding nothing but a clone of this repository's HEAD.
# Catches any step that only works because of something left on a developer's machine: packages,
# caches, files under $HOME, ../shared beside the checkout.
#
#   scripts/check-fresh-machine.sh [--keep DIR] [--build-into DIR]
#
# The commands are read from the README itself (the first ```sh block: its lines that are not comments),
# so the check and the README cannot drift apart. Each runs with `chroot`, as root, with an empty
# environment but PATH, HOME and LANG, and is timed. The root is made under $TMPDIR (or /var/tmp) and
# removed afterwards, also on failure or interrupt; with --keep DIR it is made in DIR and kept.
# --build-into DIR: once both commands pass, the root's build directory (the README's Release build) is
# moved to DIR, so that CI's later steps use it instead of building everything again. The clone sits at
# this checkout's own path inside the root, so the build's absolute paths hold outside it too (the same
# Debian packages are installed on both sides).
# Needs root (debootstrap, chroot, mount); installs debootstrap when it is missing. The new root uses the
# apt sources this machine uses (its Debian mirror, security and updates suites).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
source scripts/apt-install.sh

keep=""
build_into=""
while (($# > 0)); do
  case "$1" in
    --keep) keep="${2:?--keep needs a directory}"; shift 2 ;;
    --build-into) build_into="${2:?--build-into needs a directory}"; shift 2 ;;
    *) echo "check-fresh-machine: unknown option '$1'" >&2; exit 1 ;;
  esac
done
if [[ -n "$build_into" && -e "$build_into" ]]; then
  echo "check-fresh-machine: --build-into $build_into exists already" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "check-fresh-machine: needs root (debootstrap, chroot and mount /proc)" >&2
  exit 1
fi

# ---- the README's two commands ----
mapfile -t commands < <(awk '/^```sh/ && !seen { inside = 1; seen = 1; next }
                             inside && /^```/ { inside = 0; next }
                             inside && !/^[[:space:]]*(#|$)/ { print }' README.md)
if ((${#commands[@]} != 2)); then
  echo "check-fresh-machine: expected exactly two commands in the README's first sh block, found" \
    "${#commands[@]}: ${commands[*]:-none}" >&2
  exit 1
fi

apt_install_missing check-fresh-machine debootstrap git

# ---- the apt sources this machine uses ----
# deb822 (.sources) or one-line (.list) entries of the Debian archive; other vendors' repositories are
# not part of a fresh Debian machine.
sources=(/etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list)
archive_uri() {  # the first URI of an active entry whose path ends in /$1
  grep -hE '^(URIs:|deb) ' "${sources[@]}" 2>/dev/null | grep -oE "https?://[^ ]+/$1/?( |\$)" | head -n 1 |
    tr -d ' ' || true
}
mirror=$(archive_uri debian)
mirror=${mirror:-http://deb.debian.org/debian}
security=$(archive_uri debian-security)
security=${security:-http://deb.debian.org/debian-security}

# ---- the root, removed on any exit ----
if [[ -n "$keep" ]]; then
  mkdir -p "$keep"
  root=$(cd "$keep" && pwd)
else
  root=$(mktemp -d "${TMPDIR:-/var/tmp}/octet-fresh.XXXXXX")
fi
cleanup() {
  local status=$?
  if mountpoint -q "$root/proc" 2>/dev/null; then umount -l "$root/proc" || true; fi
  rm -f "$root.debootstrap.log"  # there when debootstrap was interrupted
  if [[ -z "$keep" ]]; then rm -rf --one-file-system "$root"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$SECONDS
echo "check-fresh-machine: debootstrap --variant=minbase bookworm $root ($mirror)"
debootstrap --variant=minbase bookworm "$root" "$mirror" > "$root.debootstrap.log" 2>&1 || {
  tail -n 30 "$root.debootstrap.log" >&2
  rm -f "$root.debootstrap.log"
  exit 1
}
rm -f "$root.debootstrap.log"
cat > "$root/etc/apt/sources.list" << EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
echo "check-fresh-machine: root ready in $((SECONDS - started)) s"

# What lands is the committed tree, as in a clean clone; the working tree's uncommitted edits are not part
# of the check.
# At this checkout's path, so that the build's absolute paths also hold outside the root (--build-into).
clone="$root$repo"
mkdir -p "$(dirname "$clone")"
git clone -q --no-local "$repo" "$clone"

timings=()
for cmd in "${commands[@]}"; do
  echo
  echo "check-fresh-machine: [fresh root] $ $cmd"
  start=$SECONDS
  if ! chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd '$repo' && $cmd"; then
    echo "check-fresh-machine: FAILED after $((SECONDS - start)) s in a fresh Debian 12 root: $cmd" >&2
    exit 1
  fi
  timings+=("$((SECONDS - start)) s  $cmd")
done

echo
echo "check-fresh-machine: both README commands pass in a fresh Debian 12 root (minbase)"
for t in "${timings[@]}"; do echo "  $t"; done
if [[ -n "$build_into" ]]; then
  mv "$clone/build" "$build_into"
  echo "check-fresh-machine: the root's build directory is now $build_into"
fi
