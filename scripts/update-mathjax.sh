#!/usr/bin/env bash
# Replace the MathJax build that `neurodeck preview` inlines with another release of the official
# `mathjax` package from the npm registry (npm checks the tarball's integrity), with its licence.
#   scripts/update-mathjax.sh [VERSION]     (default: the version recorded in VERSION)
# MathJax 4 moved and renamed its builds: this script and the page's MathJax config expect 3.x.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=generator/neurodeck/commands/preview/mathjax
version="${1:-$(cat "$dest/VERSION")}"
case "$version" in 3.*) ;; *) echo "MathJax $version: only 3.x has es5/tex-svg-full.js" >&2; exit 1 ;; esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "mathjax@$version" >/dev/null && tar -xzf "mathjax-$version.tgz")
# TeX input, SVG output (no font files to load) and every TeX extension: nothing is fetched later.
cp "$work/package/es5/tex-svg-full.js" "$dest/tex-svg-full.js"
cp "$work/package/LICENSE" "$dest/LICENSE"
echo "$version" > "$dest/VERSION"
echo "MathJax $version: $(wc -c < "$dest/tex-svg-full.js") bytes in $dest"
