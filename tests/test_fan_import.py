"""Importing existing fans: a platform's or a shop's export, in .xlsx or .csv."""
import base64
import io
from unittest.mock import patch

import openpyxl
import psycopg2
import xlsxwriter

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.queue_job.job import Job

from ..models.fan_phone import phone_key
from ..wizards import fan_import
from .common import LiveCommerceCase

DOUYIN_HEADERS = ["用户ID", "用户昵称", "手机号", "会员等级", "累计消费金额(元)", "生日", "性别", "所在地区"]


def xlsx(rows):
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet()
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, row)
    book.close()
    return output.getvalue()


def csv_bytes(rows, encoding):
    return "\r\n".join(",".join(row) for row in rows).encode(encoding)


@tagged("post_install", "-at_install")
class TestFanImport(LiveCommerceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company_a.id]))
        cls.known_by_id = cls._make_fan(cls.channel_a, "known-1", "Known by id")
        phone_hash, masked = phone_key(cls.env, "13900139000")
        cls.known_by_phone = cls.env["res.partner"].create({
            "name": "Known by phone", "company_id": cls.company_a.id,
            "fan_phone_hash": phone_hash, "fan_phone_masked": masked})

    def wizard(self, content, filename="fans.xlsx", user=None, **vals):
        """The wizard as the form makes it: the file's header row read, the preset
        found and applied, then saved."""
        Wizard = self.env["live.fan.import"].with_user(user or self.users["service"])
        draft = Wizard.new({"file": base64.b64encode(content), "filename": filename, **vals})
        draft._onchange_file()
        for name, value in vals.items():
            draft[name] = value
        return Wizard.create({
            "file": base64.b64encode(content), "filename": filename,
            "channel_id": draft.channel_id.id, "preset_id": draft.preset_id.id,
            "identity_type": draft.identity_type,
            "column_ids": [(0, 0, {"column_index": column.column_index, "header": column.header,
                                   "target": column.target}) for column in draft.column_ids],
        })

    def douyin_file(self):
        return xlsx([
            DOUYIN_HEADERS,
            ["u1", "小红", "13800138000", "金卡", "¥1,280.50", "1990-05-01", "女", "广东 深圳"],  # 2 new
            ["u9", "小红小号", "+86 138 0013 8000", "", "", "", "", ""],  # 3 same phone, other format
            ["u1", "小红改名", "", "银卡", "", "", "", ""],  # 4 same id (the first row's level stays)
            ["known-1", "老粉", "", "", "", "1985/2/3", "男", ""],  # 5 a known fan, by id
            ["u-phone", "", "008613900139000", "", "", "", "", ""],  # 6 a known contact, by phone
            ["", "没有ID", "138****8000", "", "", "", "", ""],  # 7 masked phone only: rejected
            ["u7", "坏日期", "", "", "", "1990-13-45", "", ""],  # 8 bad date: rejected
            ["u8", "坏金额", "", "", "abc", "", "", ""],  # 9 bad amount: rejected
        ])

    def imported(self):
        return self.env["live.fan.identity"].search([("channel_id", "=", self.channel_a.id)]).partner_id

    # -- good, duplicate and bad rows ---------------------------------------------
    def test_dry_run_counts_new_merged_rejected_and_writes_nothing(self):
        wizard = self.wizard(self.douyin_file())
        self.assertEqual(wizard.preset_id, self.env.ref("live_commerce_crm.fan_import_preset_douyin_shop"))
        self.assertEqual(wizard.channel_id, self.channel_a)
        before = self.imported()
        wizard.action_dry_run()
        self.assertEqual((wizard.row_count, wizard.new_count, wizard.merged_count, wizard.rejected_count),
                         (8, 1, 4, 3))
        self.assertEqual(self.imported(), before)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "小红")]))

    def test_import_merges_duplicates_in_file_and_database(self):
        wizard = self.wizard(self.douyin_file())
        wizard.action_dry_run()
        dry = (wizard.new_count, wizard.merged_count, wizard.rejected_count)
        wizard.action_import()
        self.assertEqual(wizard.state, "done")
        self.assertEqual((wizard.new_count, wizard.merged_count, wizard.rejected_count), dry)

        fan = self.env["res.partner"].search([("name", "=", "小红")])
        self.assertEqual(len(fan), 1, "one person for rows 2, 3 and 4")
        self.assertTrue(fan.is_live_fan)
        self.assertEqual(fan.company_id, self.company_a)
        self.assertEqual(sorted(fan.live_identity_ids.mapped("value")), ["u1", "u9"])
        self.assertEqual(fan.fan_phone_hash, phone_key(self.env, "13800138000")[0])
        self.assertEqual(fan.fan_phone_masked, "138****8000")
        self.assertFalse(fan.phone or fan.mobile, "a phone from a file is never stored in clear")
        self.assertEqual((str(fan.fan_birthday), fan.fan_gender, fan.fan_external_spend, fan.city),
                         ("1990-05-01", "female", 1280.5, "广东 深圳"))
        self.assertEqual(fan.category_id.mapped("display_name"), ["Member Level / 金卡"])

        self.assertEqual(self.known_by_id.name, "Known by id", "a merge fills empty fields only")
        self.assertEqual((str(self.known_by_id.fan_birthday), self.known_by_id.fan_gender), ("1985-02-03", "male"))
        self.assertEqual(self.known_by_id.live_identity_ids.mapped("value"), ["known-1"])
        self.assertEqual(self.known_by_phone.live_identity_ids.mapped("value"), ["u-phone"])
        self.assertTrue(self.known_by_phone.is_live_fan)
        self.assertEqual(self.imported(), fan | self.known_by_id | self.known_by_phone)
        self.assertFalse(self.env["live.fan.identity"].search([("value", "in", ["u7", "u8"])]))

    def test_the_same_file_again_only_merges(self):
        first = self.wizard(self.douyin_file())
        first.action_dry_run()
        first.action_import()
        fans = self.imported()
        again = self.wizard(self.douyin_file())
        again.action_dry_run()
        self.assertEqual((again.new_count, again.merged_count, again.rejected_count), (0, 5, 3))
        again.action_import()
        self.assertEqual(self.imported(), fans)
        self.assertEqual(len(self.env["res.partner"].search([("name", "=", "小红")])), 1)

    def test_error_workbook_lists_each_rejected_row_and_why(self):
        wizard = self.wizard(self.douyin_file())
        wizard.action_dry_run()
        self.assertTrue(wizard.error_filename.endswith(".xlsx"))
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(wizard.error_file)), read_only=True)
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        self.assertEqual(list(rows[0]), ["Row", "Reason", *DOUYIN_HEADERS])
        self.assertEqual([row[0] for row in rows[1:]], [7, 8, 9])
        self.assertIn("no phone number that can be used (138****8000)", rows[1][1])
        self.assertIn("1990-13-45 is not a date", rows[2][1])
        self.assertIn("abc is not an amount", rows[3][1])
        self.assertEqual(rows[2][2:4], ("u7", "坏日期"), "the row as it was in the file")

    # -- all or nothing ---------------------------------------------------------------
    def test_a_failure_mid_file_leaves_no_fan_and_no_identity(self):
        rows = [DOUYIN_HEADERS] + [[f"batch-{n}", f"批量{n}", "", "", "", "", "", ""] for n in range(7)]
        wizard = self.wizard(xlsx(rows))
        wizard.action_dry_run()
        insert = type(wizard)._insert_partners
        calls = []

        def failing_insert(self, template_id, vals_list):
            calls.append(len(vals_list))
            if len(calls) == 2:
                raise RuntimeError("the database went away")
            return insert(self, template_id, vals_list)

        # Not assertRaises, whose savepoint would undo the writes for the import: the
        # import undoes its own, whoever catches the error.
        with patch.object(fan_import, "CREATE_BATCH", 3), \
                patch.object(type(wizard), "_insert_partners", failing_insert):
            try:
                wizard.action_import()
            except RuntimeError:
                pass
            else:
                self.fail("the import did not fail")
        self.assertEqual(len(calls), 2, "the failure came after a first batch was written")
        self.env.invalidate_all()
        self.assertFalse(self.env["res.partner"].search([("name", "like", "批量")]))
        self.assertFalse(self.env["live.fan.identity"].search([("value", "like", "batch-")]))

    def test_an_identity_stored_meanwhile_undoes_the_file(self):
        rows = [DOUYIN_HEADERS, ["race-1", "甲", "", "", "", "", "", ""], ["race-2", "乙", "", "", "", "", "", ""]]
        wizard = self.wizard(xlsx(rows))
        wizard.action_dry_run()
        plan = wizard._plan()
        self._make_fan(self.channel_a, "race-2", "From a webhook")  # after the plan was made
        with patch.object(type(wizard), "_plan", lambda self: plan), self.assertRaises(psycopg2.IntegrityError):
            wizard.action_import()
        self.env.invalidate_all()
        self.assertFalse(self.env["res.partner"].search([("name", "in", ["甲", "乙"])]))

    # -- files and presets --------------------------------------------------------------
    def test_csv_in_gb18030_matched_by_phone_with_the_youzan_preset(self):
        rows = [["客户姓名", "微信昵称", "手机号", "会员等级", "累计消费金额", "生日", "性别", "地区"],
                ["张三", "三哥", "13700137000", "黄金会员", "88", "2001年1月2日", "男", "杭州"],
                ["李四", "", "137 0013 7000", "", "", "", "", ""]]
        wizard = self.wizard(csv_bytes(rows, "gb18030"), filename="有赞会员.csv")
        self.assertEqual(wizard.preset_id, self.env.ref("live_commerce_crm.fan_import_preset_youzan"))
        wizard.action_dry_run()
        self.assertEqual((wizard.new_count, wizard.merged_count, wizard.rejected_count), (1, 1, 0))
        wizard.action_import()
        fan = self.env["res.partner"].search([("fan_phone_hash", "=", phone_key(self.env, "13700137000")[0])])
        self.assertEqual((fan.name, str(fan.fan_birthday), fan.city, fan.company_id),
                         ("张三", "2001-01-02", "杭州", self.env.company))
        self.assertTrue(fan.is_live_fan)

    def test_csv_in_utf8_with_bom(self):
        rows = [DOUYIN_HEADERS, ["bom-1", "带BOM", "", "", "", "", "", ""]]
        wizard = self.wizard(csv_bytes(rows, "utf-8-sig"), filename="fans.csv")
        self.assertEqual(wizard.column_ids[0].target, "identity", "the BOM is not part of the first header")
        wizard.action_dry_run()
        wizard.action_import()
        self.assertEqual(self.env["live.fan.identity"].search([("value", "=", "bom-1")]).partner_id.name, "带BOM")

    def test_each_shipped_preset_is_found_from_its_header_row(self):
        Preset = self.env["live.fan.import.preset"]
        for xmlid in ("douyin_shop", "kuaishou_shop", "wechat_channels_shop", "tiktok_shop", "youzan"):
            preset = self.env.ref(f"live_commerce_crm.fan_import_preset_{xmlid}")
            headers = list(dict.fromkeys(preset.mapping))[:-1]  # an export a column short
            with self.subTest(preset=xmlid):
                self.assertEqual(Preset._detect(headers + ["备注"]), preset)
        self.assertFalse(Preset._detect(["a", "b", "c"]))

    def test_a_saved_mapping_is_found_again_in_its_company_only(self):
        rows = [["粉丝编号", "称呼", "电话"], ["c-1", "王五", "13600136000"]]
        wizard = self.wizard(xlsx(rows), channel_id=self.channel_a.id)
        self.assertFalse(wizard.preset_id)
        with self.assertRaises(UserError):
            wizard.action_dry_run()  # nothing mapped
        wizard.column_ids[0].target, wizard.column_ids[1].target, wizard.column_ids[2].target = \
            "identity", "nickname", "phone"
        wizard.preset_name = "Our own list"
        wizard.action_save_preset()
        preset = wizard.preset_id
        self.assertEqual((preset.name, preset.company_id, preset.platform), ("Our own list", self.company_a,
                                                                             "douyin_shop"))
        again = self.wizard(xlsx(rows))
        self.assertEqual(again.preset_id, preset)
        self.assertEqual([column.target for column in again.column_ids], ["identity", "nickname", "phone"])
        self.assertFalse(self.env["live.fan.import.preset"].with_user(self.user_b).with_context(allowed_company_ids=self.company_b.ids).search([("id", "=", preset.id)]))

    def test_platform_ids_need_a_channel(self):
        wizard = self.wizard(self.douyin_file())
        wizard.channel_id = False
        with self.assertRaises(UserError):
            wizard.action_dry_run()

    # -- long files, access -----------------------------------------------------------
    def test_a_long_file_is_imported_by_a_job(self):
        self.env["ir.config_parameter"].set_param("live_commerce_crm.fan_import_sync_rows", "3")
        wizard = self.wizard(self.douyin_file())
        wizard.action_dry_run()
        wizard.action_import()
        self.assertEqual(wizard.state, "queued")
        self.assertFalse(self.env["res.partner"].search([("name", "=", "小红")]))
        job = self.env["queue.job"].search([("model_name", "=", "live.fan.import"),
                                            ("method_name", "=", "_job_import")])
        self.assertEqual(len(job), 1)
        self.assertEqual(job.user_id, self.users["service"])
        # The job reports its progress through a cursor of its own: the test's here.
        self.registry.enter_test_mode(self.cr)
        try:
            Job.load(self.env, job.uuid).perform()
        finally:
            self.registry.leave_test_mode()
        wizard.invalidate_recordset()
        self.assertEqual(len(self.env["res.partner"].search([("name", "=", "小红")])), 1)
        self.assertEqual(wizard.progress, 100)

    def test_hosts_cannot_import_service_and_managers_can(self):
        for role in ("host", "field_controller", "user"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.wizard(self.douyin_file(), user=self.users[role])
        for role in ("service", "manager"):
            rows = [DOUYIN_HEADERS, [f"by-{role}", role, "", "", "", "", "", ""]]
            wizard = self.wizard(xlsx(rows), user=self.users[role])
            wizard.action_dry_run()
            wizard.action_import()
            self.assertEqual(self.env["live.fan.identity"].search([("value", "=", f"by-{role}")]).partner_id.name,
                             role)
