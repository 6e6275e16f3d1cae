#!/usr/bin/env bash
# Builds a recipe git repository from a folder of recipe files, with release history:
#   commit 1: version 1.0.0+U, image ccci/busybox:1   tag 1.0.0+U
#   commit 2: version 1.1.0+U, image ccci/busybox:1   tag 1.1.0+U
#   commit 3: version 1.2.0+U, image ccci/busybox:2   (the PR head: branch `main`, branch `pr/1` and
#             `refs/pull/1/head`, the ref `cc-ci run --pr 1` fetches, as Gitea exposes PRs)
# where U is the upstream version of the folder's own version label (`…version=1.0.0+U`).
# Usage: make-recipe-repo.sh SRC_DIR DEST_DIR
# In compose.yml only the `coop-cloud.${STACK_NAME}.version=` label and the `image: ccci/busybox:N` line of
# the service `app` are rewritten (other services, e.g. a `db`, keep their image, as a recipe PR that bumps
# the app would; an `app` on another image keeps it). SRC_DIR/pr-head.patch, when present, is what the PR
# changes besides that (e.g. a page and its bumped config version): it is applied in the PR head commit
# only and is not part of the recipe. Every other file is copied as is.
set -euo pipefail
src=${1:?usage: make-recipe-repo.sh SRC_DIR DEST_DIR}
dest=${2:?usage: make-recipe-repo.sh SRC_DIR DEST_DIR}
[ -f "$src/compose.yml" ] || { echo "make-recipe-repo: $src/compose.yml not found" >&2; exit 1; }
[ -e "$dest" ] && { echo "make-recipe-repo: $dest already exists" >&2; exit 1; }
src=$(cd "$src" && pwd)
upstream=$(sed -n -E 's/.*coop-cloud\.\$\{STACK_NAME\}\.version=[^+"]*\+([^"]*)".*/\1/p' "$src/compose.yml" | head -n 1)
upstream=${upstream:-1.36.1}
mkdir -p "$dest"
cp -a "$src/." "$dest/"
rm -f "$dest/pr-head.patch"
cd "$dest"
export GIT_AUTHOR_NAME=cc-ci GIT_AUTHOR_EMAIL=cc-ci@example.invalid
export GIT_COMMITTER_NAME=cc-ci GIT_COMMITTER_EMAIL=cc-ci@example.invalid
git init -q -b main .
git config commit.gpgsign false
set_version() { # VERSION IMAGE_TAG
  # The image rewrite is limited to the block from `  app:` to the next two-space key (next service).
  sed -i -E "s/(coop-cloud\.\\\$\{STACK_NAME\}\.version=)[^\"]*/\1$1/; /^  app:/,/^  [^ #]/ s#(image: ccci/busybox:)[0-9a-z]+#\1$2#" compose.yml
}
commit_at() { # DATE MESSAGE
  GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" git commit -q -m "$2"
}
set_version "1.0.0+$upstream" 1; git add -A; commit_at "2026-01-01T00:00:00Z" "release 1.0.0+$upstream"
git tag "1.0.0+$upstream"
set_version "1.1.0+$upstream" 1; git add -A; commit_at "2026-02-01T00:00:00Z" "release 1.1.0+$upstream"
git tag "1.1.0+$upstream"
if [ -f "$src/pr-head.patch" ]; then
  git apply "$src/pr-head.patch" || { echo "make-recipe-repo: $src/pr-head.patch does not apply" >&2; exit 1; }
fi
set_version "1.2.0+$upstream" 2; git add -A; commit_at "2026-03-01T00:00:00Z" "chore: upgrade to busybox 2 (the PR)"
git branch -f pr/1 HEAD
# Gitea exposes a pull request as refs/pull/N/head, which `cc-ci run --pr 1` fetches.
git update-ref refs/pull/1/head HEAD
git rev-parse HEAD
