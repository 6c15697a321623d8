"""Fan import benchmark: a 100,000-row Douyin customer export (.xlsx) through the
import wizard (dry run, then import), against Odoo's own batched ORM create of the
same fans in the same run.

Usage (bench/run.sh import does it): python bench/fan_import.py -c ODOO_CONF -d DB [--rows N]

  * baseline: res.partner.create() of 2,000 fans at a time, each with its platform
    identity (a one2many command), in the import's quiet context (no chatter, no
    tracking): what a wizard built on the ORM would do. Measured on
    --baseline-rows rows (10,000 by default: the full file would take many
    minutes) and given as a rate;
  * ours: the wizard as a user drives it: read the workbook and check it (dry run),
    then import it (it reads and checks the file again, then writes), committed.
The file: 100,000 rows, 5% of them repeating an earlier row's phone number in
another format, 1% rejected (no id and a masked phone), member levels, birthdays,
amounts. Target: the whole import (dry run excluded) under 120 s.
"""
import base64
import io
import os
import random
import sys
import time
import uuid

import xlsxwriter

from odoo import SUPERUSER_ID, api

from odoo_bench import bench_parser, open_registry  # bench/, the script's folder

HEADERS = ["用户ID", "用户昵称", "手机号", "会员等级", "累计消费金额(元)", "生日", "性别", "所在地区"]
LEVELS = ["普通会员", "银卡", "金卡", "钻石"]
REGIONS = ["广东 深圳", "浙江 杭州", "上海", "北京", "四川 成都"]
TARGET_SECONDS = 120


def row(run_id, n, phone_base=0):
    """Row n of the file; the baseline's rows take other phone numbers (phone_base),
    so that the import does not merge into the fans the baseline made."""
    if n % 100 == 99:
        return ["", f"无ID{n}", "138****8000", "", "", "", "", ""]  # rejected
    if n % 20 == 19:  # the phone of the row above, written another way: merged into it
        phone = f"+86 1{3 + (n - 1) % 7}{phone_base + n - 1:09d}"
    else:
        phone = f"1{3 + n % 7}{phone_base + n:09d}"
    return [f"{run_id}-{n}", f"粉丝{n}", phone, LEVELS[n % 4], f"{n % 5000}.50",
            f"19{70 + n % 30}-{1 + n % 12:02d}-{1 + n % 28:02d}", "男" if n % 2 else "女", REGIONS[n % 5]]


def workbook(run_id, rows, phone_base):
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True, "constant_memory": False})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADERS)
    for n in range(rows):
        sheet.write_row(n + 1, 0, row(run_id, n, phone_base))
    book.close()
    return output.getvalue()


def setup(env):
    channel = env["live.channel"].search([("code", "=", "bench-import")]) or env["live.channel"].create(
        {"name": "bench-import", "code": "bench-import", "platform": "douyin_shop", "app_secret": "x"})
    env.cr.commit()
    return channel


def run_baseline(env, channel, count):
    from odoo.addons.live_commerce_crm.models.fan_phone import phone_key  # noqa: PLC0415
    from odoo.addons.live_commerce_crm.wizards.fan_import import QUIET  # noqa: PLC0415
    run_id = "base-" + uuid.uuid4().hex[:6]
    phone_base = random.randrange(500, 900) * 1_000_000  # numbers of their own (LCC_BENCH_REUSE=1 too)
    Partner = env["res.partner"].with_context(**QUIET)
    start = time.perf_counter()
    for first in range(0, count, 2000):
        vals_list = []
        for n in range(first, min(first + 2000, count)):
            cells = row(run_id, n, phone_base)
            if not cells[0]:
                continue  # a rejected row
            phone_hash, masked = phone_key(env, cells[2])
            vals_list.append({
                "name": cells[1], "company_id": channel.company_id.id, "is_live_fan": True,
                "fan_phone_hash": phone_hash, "fan_phone_masked": masked, "city": cells[7],
                "live_identity_ids": [(0, 0, {"channel_id": channel.id, "identity_type": "open_id",
                                              "value": cells[0], "nickname": cells[1]})]})
        Partner.create(vals_list)
        env.flush_all()
    env.cr.commit()
    return count / (time.perf_counter() - start)


def run_ours(env, channel, rows):
    run_id = uuid.uuid4().hex[:8]
    content = workbook(run_id, rows, random.randrange(0, 400) * 1_000_000)
    Wizard = env["live.fan.import"]
    draft = Wizard.new({"file": base64.b64encode(content), "filename": "bench.xlsx"})
    draft._onchange_file()
    wizard = Wizard.create({
        "file": base64.b64encode(content), "filename": "bench.xlsx", "channel_id": channel.id,
        "preset_id": draft.preset_id.id, "identity_type": draft.identity_type,
        "column_ids": [(0, 0, {"column_index": c.column_index, "header": c.header, "target": c.target})
                       for c in draft.column_ids]})
    env.cr.commit()
    start = time.perf_counter()
    wizard.action_dry_run()
    dry = time.perf_counter() - start
    env.cr.commit()
    start = time.perf_counter()
    plan = wizard._import()
    env.flush_all()
    env.cr.commit()
    elapsed = time.perf_counter() - start
    env.cr.execute("SELECT count(*) FROM live_fan_identity WHERE value LIKE %s", [f"{run_id}-%"])
    identities = env.cr.fetchone()[0]
    assert (wizard.new_count, wizard.merged_count, wizard.rejected_count) == (
        plan.new_count, plan.merged_count, len(plan.rejected)), "the dry run and the import disagree"
    assert identities == len(plan.rows), (identities, len(plan.rows))
    return dry, elapsed, plan, len(content)


def main():
    parser = bench_parser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=10_000)
    args = parser.parse_args()
    registry = open_registry(args)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        channel = setup(env)
        base = run_baseline(env, channel, args.baseline_rows)
        dry, elapsed, plan, size = run_ours(env, channel, args.rows)
    ours = args.rows / elapsed
    ok = elapsed < TARGET_SECONDS
    print(f"Fan import, {args.rows:,} rows of .xlsx ({size / 1e6:.1f} MB): {plan.new_count:,} new, "
          f"{plan.merged_count:,} merged, {len(plan.rejected):,} rejected")
    print(f"{'Odoo batched ORM create (partner + identity)':<46} {base:>8,.0f} rows/s  "
          f"(measured on {args.baseline_rows:,} rows: {args.rows / base:,.0f} s for the file)")
    print(f"{'wizard dry run (read + check)':<46} {args.rows / dry:>8,.0f} rows/s  {dry:6.1f} s")
    print(f"{'wizard import (read + check + write)':<46} {ours:>8,.0f} rows/s  {elapsed:6.1f} s  "
          f"ratio {ours / base:.1f} x baseline  target < {TARGET_SECONDS} s  {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
