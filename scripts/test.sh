#!/usr/bin/env bash
# Runs the whole test suite on SQLite and PostgreSQL. On a fresh Debian machine it first installs
# PostgreSQL's binaries (the tests start their own throwaway cluster from them; no service needed).
# Set CAIRN_TEST_DATABASE_URL to use an existing server instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${CAIRN_TEST_DATABASE_URL:-}" ]] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "PostgreSQL binaries not found: installing Debian's postgresql package" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
# The SCORM run-time's unit tests (static/scorm/runtime.js) run on node's built-in test runner.
if command -v node >/dev/null 2>&1; then
  node --test tests/js/
else
  echo "!!! SKIPPED the JavaScript tests (tests/js/): node is not installed (apt-get install nodejs)" >&2
fi
# Never let the PostgreSQL half of the suite skip silently once set up.
export CAIRN_REQUIRE_POSTGRES=1
exec cargo test "$@"
