#!/usr/bin/env bash
# Refresh i18n/live_commerce_crm.pot from the installed addon and merge it into
# i18n/zh_CN.po, keeping existing translations. New terms get an empty msgstr:
# translate them, `make test` fails until every term is translated.
source "$(dirname "$0")/common.sh"
prepare_all
DB=${LCC_I18N_DB:-lcc_i18n}
CONF=$DATA/odoo-i18n.conf
write_odoo_conf "$CONF" "$DB"
db_psql postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
# With demo data: its product and tag names are terms of the addon too.
odoo_bin -c "$CONF" -d "$DB" -i "$MODULE" --stop-after-init --log-level=warn
odoo_bin -c "$CONF" -d "$DB" --i18n-export="$ROOT/i18n/$MODULE.pot" --modules="$MODULE" --stop-after-init --log-level=warn
db_psql postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
"$VENV/bin/python" "$ROOT/scripts/i18n_merge.py" "$ROOT/i18n/$MODULE.pot" "$ROOT/i18n/zh_CN.po"
