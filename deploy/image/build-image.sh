#!/usr/bin/env bash
# `npm run image`: builds Sluice's container image from deploy/image/Containerfile with whatever
# engine this machine has (docker, else podman, else buildah), tags it sluice:<package version> and
# sluice:<git short sha>, and writes beside it in .sluice/image/:
#   image.json      what was built: engine, id, tags, base, labels, size, build seconds
#   sbom.cdx.json   CycloneDX SBOM of the npm packages the image ships (generated inside the image
#                   from its production node_modules)
#   sluice-<version>.oci.tar   with --archive: the image as an OCI archive (load it elsewhere)
#
#   npm run image [-- --local-base] [--archive] [--engine docker|podman|buildah]
#
# --local-base builds on localhost/sluice-base (deploy/image/build-base.sh: Debian from the apt
# mirror, Node and npm from the npm registry) for machines that cannot pull docker.io's node image.
# SLUICE_BASE_IMAGE=<ref> sets any other base (pin a digest: node:24-bookworm-slim@sha256:...).
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
root=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/image/engine.sh
source "$here/engine.sh"

local_base=false archive=false engine_name=${SLUICE_IMAGE_ENGINE:-}
while (($#)); do
  case $1 in
    --local-base) local_base=true ;;
    --archive) archive=true ;;
    --engine) engine_name=$2; shift ;;
    *) echo "usage: build-image.sh [--local-base] [--archive] [--engine docker|podman|buildah]" >&2; exit 2 ;;
  esac
  shift
done

log() { printf 'sluice-image: %s\n' "$*" >&2; }
ENGINE=$(pick_engine "$engine_name")
cd "$root"
out=.sluice/image
mkdir -p "$out"

version=$(node -p 'require("./package.json").version')
revision=$(git rev-parse HEAD)
short=$(git rev-parse --short HEAD)
# An image built from uncommitted changes must not carry the commit's name alone.
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
  revision="$revision-dirty"
  short="$short-dirty"
fi
source_url=${SLUICE_IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || true)}
created=$(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%Y-%m-%dT%H:%M:%SZ)

started=$SECONDS
base=${SLUICE_BASE_IMAGE:-}
if $local_base; then
  base=$("$here/build-base.sh" "$ENGINE")
fi
extra_args=()
[[ -n $base ]] && extra_args+=(--build-arg "BASE_IMAGE=$base")
# The CA certificates this machine's npm trusts beyond Node's own (a TLS-inspecting proxy in front
# of the registry), handed to npm ci as a build secret: used, never stored in a layer.
ca=${SLUICE_BUILD_CA:-${NODE_EXTRA_CA_CERTS:-}}
[[ -n $ca && -f $ca ]] && extra_args+=(--secret "id=npm-ca,src=$ca")
# podman and buildah run RUN steps chroot-isolated unless told otherwise: it needs no OCI runtime,
# so it builds where crun or runc cannot start a container (hybrid cgroups, no CAP_SYS_RESOURCE).
if [[ $ENGINE != docker ]]; then
  extra_args+=(--isolation "${SLUICE_IMAGE_ISOLATION:-chroot}")
fi

# Host networking for RUN: npm ci inside the build reaches the npm registry exactly as the host does
# (no bridge, NAT or DNS of the engine's own in between).
log "building sluice:$version and sluice:$short with $ENGINE${base:+ on $base}"
build_image "$ENGINE" \
  --file deploy/image/Containerfile \
  --network host \
  "${extra_args[@]}" \
  --build-arg "VERSION=$version" \
  --build-arg "REVISION=$revision" \
  --build-arg "CREATED=$created" \
  --build-arg "SOURCE=$source_url" \
  --tag "sluice:$version" \
  --tag "sluice:$short" \
  .
seconds=$((SECONDS - started))

# The SBOM was generated inside the image from the tree it ships; copy it out.
sbom_from_image() {
  local ctr mnt
  case $ENGINE in
    buildah)
      ctr=$(buildah from --pull-never "sluice:$short")
      mnt=$(buildah mount "$ctr")
      cp "$mnt/app/sbom.cdx.json" "$out/sbom.cdx.json"
      buildah umount "$ctr" >/dev/null
      buildah rm "$ctr" >/dev/null
      ;;
    *)
      ctr=$("$ENGINE" create "sluice:$short")
      "$ENGINE" cp "$ctr:/app/sbom.cdx.json" "$out/sbom.cdx.json"
      "$ENGINE" rm "$ctr" >/dev/null
      ;;
  esac
}
sbom_from_image

case $ENGINE in
  buildah) inspect=(buildah inspect --type image) ;;
  *) inspect=("$ENGINE" image inspect) ;;
esac
"${inspect[@]}" "sluice:$short" >"$out/inspect.json"
size=$(node -e '
  const [image] = [JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))].flat();
  // docker and podman report Size; buildah only the manifest (a JSON string) with its layers.
  const manifest = typeof image.Manifest === "string" ? JSON.parse(image.Manifest) : undefined;
  const size = image.Size ?? manifest?.layers?.reduce((sum, layer) => sum + layer.size, 0) ?? 0;
  process.stdout.write(String(size));' "$out/inspect.json")
id=$(node -e '
  const [image] = [JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))].flat();
  process.stdout.write(image.Id ?? image.FromImageID ?? "");' "$out/inspect.json")

archive_file=
if $archive; then
  archive_file="$out/sluice-$version.oci.tar"
  rm -f "$archive_file"
  case $ENGINE in
    docker) docker save -o "$archive_file" "sluice:$version" "sluice:$short" ;;
    podman) podman save --format oci-archive -o "$archive_file" "sluice:$version" ;;
    buildah) buildah push "sluice:$version" "oci-archive:$archive_file:sluice:$version" ;;
  esac
fi

node -e '
  const [engine, id, version, short, base, revision, created, size, seconds, archive, file] = process.argv.slice(1);
  const image = {
    engine, id, tags: [`sluice:${version}`, `sluice:${short}`], base: base || "(Containerfile default)",
    revision, created, sizeBytes: Number(size), buildSeconds: Number(seconds), archive: archive || null,
    sbom: ".sluice/image/sbom.cdx.json",
  };
  require("fs").writeFileSync(file, `${JSON.stringify(image, null, 2)}\n`);
' "$ENGINE" "$id" "$version" "$short" "$base" "$revision" "$created" "$size" "$seconds" "$archive_file" "$out/image.json"

packages=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).components.length' "$out/sbom.cdx.json")
log "built sluice:$version sluice:$short with $ENGINE in ${seconds}s: $((size / 1000000)) MB ($size bytes)"
log "SBOM: $out/sbom.cdx.json ($packages npm packages); metadata: $out/image.json${archive_file:+; archive: $archive_file}"
