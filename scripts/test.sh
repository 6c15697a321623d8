#!/usr/bin/env bash
# `make test`: the whole test suite on a fresh database; non-zero on any failure.
source "$(dirname "$0")/common.sh"
prepare_all

# Odoo skips its browser tests (and reports success) without Chromium or
# websocket-client, and the review's PDF test needs wkhtmltopdf and poppler's
# tools: here they are required, so their absence is an error.
need_debian_package() {  # need_debian_package PACKAGE COMMAND...: one of the commands, else install PACKAGE
  local package=$1; shift
  for command in "$@"; do command -v "$command" >/dev/null && return 0; done
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "$1 not found: installing Debian's $package for the tests"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null; } \
      || die "Could not install $package; the tests need it."
  else
    die "$1 is needed for the tests: install it (Debian: apt-get install $package)."
  fi
}
need_debian_package chromium chromium google-chrome chromium-browser
need_debian_package wkhtmltopdf wkhtmltopdf
need_debian_package poppler-utils pdftoppm
"$VENV/bin/python" -c "import websocket" || die "websocket-client is missing from $VENV: the browser tests need it."

DB=${LCC_TEST_DB:-lcc_test}
CONF=$DATA/odoo-test.conf
# No job runner in the test process: the tests run jobs themselves, or through
# the private server (tests/private_server.py), which has one.
HTTP_PORT=${LCC_TEST_HTTP_PORT:-8169} write_odoo_conf "$CONF" "$DB" 0
LOGS=$DATA/logs
mkdir -p "$LOGS"

# Both languages and l10n_cn, as make run; English first, so that the database's
# default language (the superuser's, messages stored by the processor) is the one
# the tests read, while the demo users read Chinese as in make run.
say "Fresh test database $DB: installing $MODULE with demo data, as make run does (l10n_cn, English and Chinese)"
db_psql postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
rm -f "$LOGS/install-demo.log"  # Odoo appends: test_install reads this install's log alone
odoo_bin -c "$CONF" -d "$DB" -i "$MODULE,l10n_cn" --load-language=en_US,zh_CN --stop-after-init --log-level=info \
  --logfile="$LOGS/install-demo.log" \
  || die "Installing $MODULE failed; see $LOGS/install-demo.log"

say "Running the test suite (pytest-odoo, HTTP server and headless Chromium included)"
export LCC_PG_BIN=$PG_BIN LCC_INSTALL_LOG=$LOGS/install-demo.log LCC_ODOO_CONF=$CONF LCC_ODOO_BIN="$ODOO_SRC/odoo-bin" LCC_PYTHON="$VENV/bin/python"
cd "$MODULE_DIR"
export PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"
exec "$VENV/bin/python" -m pytest -p pytest_no_skip "$MODULE_DIR/tests" \
  --odoo-config="$CONF" --odoo-database="$DB" --odoo-http --odoo-log-level=warn --odoo-extra=test-file="$MODULE_DIR/tests" \
  -p no:cacheprovider -ra "$@"
