#!/bin/sh
# Rebuilds yjs.js: the npm package `yjs` (and its dependencies lib0 and isomorphic.js) bundled
# once into one plain IIFE script that defines the global `Y`. Users need no build step; only a
# maintainer changing the version runs this (node and npm needed).
set -eu
YJS_VERSION=13.6.33
ESBUILD_VERSION=0.28.2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund "yjs@$YJS_VERSION" "esbuild@$ESBUILD_VERSION" >/dev/null
echo 'export * from "yjs";' > entry.js
./node_modules/.bin/esbuild entry.js --bundle --format=iife --global-name=Y --minify \
  --target=es2019 --legal-comments=none \
  --banner:js="/*! yjs $YJS_VERSION with lib0 and isomorphic.js, MIT (LICENSE-* beside this file); built by build-yjs.sh */" \
  --outfile="$here/yjs.js"
cp node_modules/yjs/LICENSE "$here/LICENSE-yjs"
cp node_modules/lib0/LICENSE "$here/LICENSE-lib0"
cp node_modules/isomorphic.js/LICENSE "$here/LICENSE-isomorphic.js"
echo "yjs.js: yjs $(node -p 'require("yjs/package.json").version'), lib0 $(node -p 'require("lib0/package.json").version')"
