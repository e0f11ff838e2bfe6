# The container engine behind the image scripts: docker when its daemon answers, else podman, else
# buildah. Docker and podman share one command line; buildah spells a few things differently.
# Sourced by build-base.sh and build-image.sh.

# pick_engine [name]: the engine asked for, or the first one that works here.
pick_engine() {
  if [[ -n ${1:-} ]]; then
    command -v "$1" >/dev/null || { echo "sluice-image: engine $1 is not installed" >&2; return 1; }
    printf '%s\n' "$1"
  elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    echo docker
  elif command -v podman >/dev/null; then
    echo podman
  elif command -v buildah >/dev/null; then
    echo buildah
  else
    echo 'sluice-image: no container engine: install docker, podman or buildah (Debian: apt-get install podman)' >&2
    return 1
  fi
}

# image_exists engine ref
image_exists() {
  case $1 in
    buildah) buildah inspect --type image "$2" >/dev/null 2>&1 ;;
    *) "$1" image inspect "$2" >/dev/null 2>&1 ;;
  esac
}

# import_rootfs engine tar tag [change...]: a one-layer image from a root filesystem tar. Changes are
# Dockerfile instructions, ENV and CMD only (what `docker import --change` takes).
import_rootfs() {
  local engine=$1 tar=$2 tag=$3 change ctr
  shift 3
  case $engine in
    buildah)
      ctr=$(buildah from scratch)
      buildah add --quiet "$ctr" "$tar" / >/dev/null
      for change in "$@"; do
        case $change in
          'ENV '*) buildah config --env "${change#ENV }" "$ctr" ;;
          'CMD '*) buildah config --cmd "${change#CMD }" "$ctr" ;;
          *) echo "sluice-image: import_rootfs: unsupported change $change" >&2; return 1 ;;
        esac
      done
      buildah commit --quiet --rm "$ctr" "$tag" >/dev/null
      ;;
    *)
      local args=()
      for change in "$@"; do args+=(--change "$change"); done
      "$engine" import "${args[@]}" "$tar" "$tag" >/dev/null
      ;;
  esac
}

# build_image engine args...: `docker build` and `podman build` take the same arguments; buildah
# keeps no layer cache unless asked.
build_image() {
  local engine=$1
  shift
  case $engine in
    buildah) buildah build --layers "$@" ;;
    *) "$engine" build "$@" ;;
  esac
}
