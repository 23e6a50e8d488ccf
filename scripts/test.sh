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
# Stock xAPI clients for the interop tests (tests/clients.rs): TinCanJS and xAPI.js from the npm registry,
# with axe-core (accessibility checks) and oidc-provider (the OpenID provider of the sign-in tests),
# (tests/clients/package-lock.json), the `tincan` package from PyPI in tests/clients/.venv. A failed or
# impossible install only warns here: the tests then skip loudly, or fail under CAIRN_REQUIRE_CLIENTS=1.
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error >/dev/null ||
    echo "!!! npm ci --prefix tests/clients failed: the TinCanJS and xAPI.js interop tests cannot run" >&2
else
  echo "!!! npm not found: the TinCanJS and xAPI.js interop tests cannot run (apt-get install npm)" >&2
fi
if command -v python3 >/dev/null 2>&1; then
  { [[ -x tests/clients/.venv/bin/python ]] || python3 -m venv tests/clients/.venv; } &&
    tests/clients/.venv/bin/python -m pip install -q --disable-pip-version-check -r tests/clients/requirements.txt ||
    echo "!!! installing tests/clients/requirements.txt failed: the tincan (Python) interop tests cannot run" >&2
else
  echo "!!! python3 not found: the tincan (Python) interop tests cannot run" >&2
fi
# Never let the PostgreSQL half of the suite skip silently once set up.
export CAIRN_REQUIRE_POSTGRES=1
exec cargo test "$@"
