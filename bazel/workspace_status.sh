#!/usr/bin/env bash
# Bazel's workspace status (.bazelrc --workspace_status_command): the git
# revision and branch of the checkout, which //gateway:build_info stamps into
# fedgate (fedgate_build_info, --version, /api/v1/status/buildinfo).
# FEDGATE_GIT_REVISION and FEDGATE_GIT_BRANCH, when set, are used as they are:
# a build without the .git directory (the Dockerfile's, which receives them as
# build arguments) still names its commit. Otherwise they come from git, and
# are "unknown" outside a git checkout.
if [[ -n "${FEDGATE_GIT_REVISION:-}" ]]; then
  revision="${FEDGATE_GIT_REVISION}"
else
  revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    revision="${revision}-modified"
  fi
fi
if [[ -n "${FEDGATE_GIT_BRANCH:-}" ]]; then
  branch="${FEDGATE_GIT_BRANCH}"
else
  branch="$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)"
fi
echo "STABLE_GIT_REVISION ${revision}"
echo "STABLE_GIT_BRANCH ${branch}"
