#!/usr/bin/env bash
# Prints the path of a Go toolchain able to build Passport. Uses the `go` on PATH when it is
# 1.21 or newer (it fetches the exact version go.mod asks for through the module proxy by
# itself); otherwise downloads the toolchain zip from the Go module proxy into
# ~/.cache/passport, so a fresh Debian machine needs no manual install.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(awk '/^go /{print $2; exit}' go.mod)

if command -v go >/dev/null 2>&1; then
  have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  major=${have%%.*}; rest=${have#*.}; minor=${rest%%.*}
  if [ "${major:-0}" -gt 1 ] || { [ "${major:-0}" = 1 ] && [ "${minor:-0}" -ge 21 ]; }; then
    command -v go; exit 0
  fi
fi
for g in /usr/local/go/bin/go "$HOME"/go/bin/go; do
  [ -x "$g" ] && { echo "$g"; exit 0; }
done

case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) echo "ensure-go: unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
ver="$want"; [ "$(echo "$ver" | tr -cd . | wc -c)" = 1 ] && ver="$ver.0"
dest="${XDG_CACHE_HOME:-$HOME/.cache}/passport/go$ver"
if [ ! -x "$dest/bin/go" ]; then
  echo "ensure-go: downloading Go $ver from the Go module proxy" >&2
  for tool in curl unzip; do
    command -v $tool >/dev/null || {
      if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $tool >/dev/null
      else sudo apt-get update -qq && sudo apt-get install -y -qq $tool >/dev/null; fi; }
  done
  proxy=$(echo "${GOPROXY:-https://proxy.golang.org}" | cut -d, -f1)
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  curl -fsSL "$proxy/golang.org/toolchain/@v/v0.0.1-go$ver.linux-$arch.zip" -o "$tmp/go.zip"
  unzip -q "$tmp/go.zip" -d "$tmp"
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest"; mv "$tmp/golang.org/toolchain@v0.0.1-go$ver.linux-$arch" "$dest"
  chmod +x "$dest"/bin/* "$dest"/pkg/tool/*/* 2>/dev/null || true
fi
echo "$dest/bin/go"
