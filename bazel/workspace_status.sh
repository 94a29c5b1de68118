#!/usr/bin/env bash
# Bazel's workspace status (.bazelrc --workspace_status_command): the git
# revision and branch of the checkout, which //gateway:build_info stamps into
# fedgate (fedgate_build_info, --version, /api/v1/status/buildinfo). Outside
# a git checkout both are "unknown".
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
branch="$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  revision="${revision}-modified"
fi
echo "STABLE_GIT_REVISION ${revision}"
echo "STABLE_GIT_BRANCH ${branch}"
