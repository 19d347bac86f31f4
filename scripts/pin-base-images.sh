#!/usr/bin/env bash
# Resolves the Dockerfile's base image tags to their current digests and
# rewrites the FROM lines, keeping tag@digest. Needs one of crane, skopeo
# or docker (buildx) and access to the registries. Review and commit the
# diff: updating a base image is a reviewed change, never a side effect.
set -euo pipefail
cd "$(dirname "$0")/.."

digest() {
	local ref=$1
	if command -v crane >/dev/null; then
		crane digest "$ref"
	elif command -v skopeo >/dev/null; then
		skopeo inspect --format '{{.Digest}}' "docker://$ref"
	elif command -v docker >/dev/null; then
		docker buildx imagetools inspect "$ref" --format '{{json .Manifest.Digest}}' | tr -d '"'
	else
		echo "pin-base-images: install crane, skopeo or docker to resolve digests" >&2
		exit 1
	fi
}

grep -E '^FROM ' Dockerfile | awk '{print $2}' | while read -r image; do
	tag=${image%@*}
	d=$(digest "$tag")
	case $d in sha256:*) ;; *) echo "pin-base-images: no digest for $tag" >&2; exit 1 ;; esac
	echo "$tag -> $d"
	sed -i "s|^FROM ${image//|/\\|}|FROM ${tag}@${d}|" Dockerfile
done
