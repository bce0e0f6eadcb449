#!/usr/bin/env bash
# Installs the Debian 12 packages that wsgate's build, tests and demo need; only what is missing.
set -euo pipefail

packages=(
	build-essential cmake pkg-config clang
	libssh-dev liblmdb-dev lmdb-utils libseccomp-dev liboath-dev libinih-dev libjansson-dev
	libqrencode-dev libcmocka-dev libcsv-dev libssl-dev
	openssh-client openssh-server openssh-sftp-server oathtool expect bubblewrap rsync
	python3 python3-pexpect python3-paramiko iproute2 procps util-linux e2fsprogs xfsprogs btrfs-progs lftp hyperfine
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
