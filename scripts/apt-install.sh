# Sourced by the scripts that install Debian packages: `apt_install_missing TAG PACKAGE...` runs apt-get
# install for the packages that are not installed yet (nothing when all are), updating the package lists
# once per script first, since a fresh machine has none. As root, or through sudo otherwise.

apt_sudo=()
if [[ $(id -u) -ne 0 ]]; then apt_sudo=(sudo); fi
apt_lists_updated=0

apt_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Forces the next apt_install_missing to update the lists (after dpkg --add-architecture, say).
apt_lists_stale() { apt_lists_updated=0; }

apt_update_once() {
  if ((apt_lists_updated == 0)); then
    DEBIAN_FRONTEND=noninteractive "${apt_sudo[@]}" apt-get update -q
    apt_lists_updated=1
  fi
}

apt_install_missing() {
  local tag=$1 missing=() p
  shift
  for p in "$@"; do apt_installed "$p" || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return 0
  echo "$tag: installing ${missing[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive "${apt_sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}
