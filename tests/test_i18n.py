import os

import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import PoFileReader, TranslationModuleReader


@tagged("post_install", "-at_install")
class TestChineseTranslation(TransactionCase):
    """Most users read Chinese: every exported term of the addon has a zh_CN translation."""

    def test_zh_cn_po_covers_every_term(self):
        po_path = os.path.join(get_module_path("live_commerce_crm"), "i18n", "zh_CN.po")
        translated = {entry.msgid for entry in polib.pofile(po_path) if entry.msgstr.strip() and not entry.obsolete}
        reader = TranslationModuleReader(self.env.cr, modules=["live_commerce_crm"])  # source terms, as the .pot
        terms = {source for _module, _type, _name, _res_id, source, _value, _comments in reader if source}
        self.assertTrue(terms, "the exporter found no terms: the check would be empty")
        missing = sorted(terms - translated)
        self.assertFalse(missing, "terms without a zh_CN translation (run scripts/i18n-export.sh):\n" + "\n".join(missing))

    def test_po_files_load_as_odoo_reads_them(self):
        # A hand-added entry without its "#. module:" comment breaks the whole install
        # at the translation step; Odoo's own reader names the culprit faster.
        i18n = os.path.join(get_module_path("live_commerce_crm"), "i18n")
        for name in ("zh_CN.po", "live_commerce_crm.pot"):
            with self.subTest(file=name):
                rows = list(PoFileReader(os.path.join(i18n, name)))
                self.assertTrue(rows)
                self.assertEqual({row["module"] for row in rows}, {"live_commerce_crm"})
