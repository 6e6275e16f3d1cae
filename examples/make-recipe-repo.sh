#!/usr/bin/env bash
# Builds a recipe git repository from a folder of recipe files, with release history:
#   commit 1: version 1.0.0+1.36.1, image ccci/busybox:1   tag 1.0.0+1.36.1
#   commit 2: version 1.1.0+1.36.1, image ccci/busybox:1   tag 1.1.0+1.36.1
#   commit 3: version 1.2.0+1.36.1, image ccci/busybox:2   (the PR head, on branch `main` and `pr/1`)
# Usage: make-recipe-repo.sh SRC_DIR DEST_DIR
# Only two things are rewritten in compose.yml: the `coop-cloud.${STACK_NAME}.version=` label and the
# `image: ccci/busybox:N` line of the service `app` (other services, e.g. a `db`, keep their image, as a
# recipe PR that bumps the app would). Every other file is copied as is. Works for any recipe folder under
# examples/recipes/ whose `app` service uses ccci/busybox.
set -euo pipefail
src=${1:?usage: make-recipe-repo.sh SRC_DIR DEST_DIR}
dest=${2:?usage: make-recipe-repo.sh SRC_DIR DEST_DIR}
[ -f "$src/compose.yml" ] || { echo "make-recipe-repo: $src/compose.yml not found" >&2; exit 1; }
[ -e "$dest" ] && { echo "make-recipe-repo: $dest already exists" >&2; exit 1; }
mkdir -p "$dest"
cp -a "$src/." "$dest/"
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
set_version 1.0.0+1.36.1 1; git add -A; commit_at "2026-01-01T00:00:00Z" "release 1.0.0+1.36.1"
git tag 1.0.0+1.36.1
set_version 1.1.0+1.36.1 1; git add -A; commit_at "2026-02-01T00:00:00Z" "release 1.1.0+1.36.1"
git tag 1.1.0+1.36.1
set_version 1.2.0+1.36.1 2; git add -A; commit_at "2026-03-01T00:00:00Z" "chore: upgrade to busybox 2 (the PR)"
git branch -f pr/1 HEAD
git rev-parse HEAD
