"""Merge a freshly exported .pot into a .po, keeping the translations it has.

Usage: i18n_merge.py TEMPLATE.pot LANG.po   (prints the untranslated count)
"""
import sys

import polib


def main(pot_path, po_path):
    pot = polib.pofile(pot_path)
    try:
        old = {entry.msgid: entry for entry in polib.pofile(po_path)}
    except OSError:
        old = {}
    po = polib.POFile()
    po.metadata = dict(pot.metadata, Language="zh_CN", **{
        "Content-Type": "text/plain; charset=UTF-8", "Plural-Forms": ""})
    for entry in pot:
        previous = old.get(entry.msgid)
        entry.msgstr = previous.msgstr if previous else ""
        po.append(entry)
    po.save(po_path)
    missing = sum(1 for entry in po if not entry.msgstr)
    print(f"{po_path}: {len(po)} terms, {missing} without a translation")


if __name__ == "__main__":
    main(*sys.argv[1:3])
