/** @odoo-module **/

import { registry } from "@web/core/registry";
import { listRows, listTotal, openLiveCommerce, openMenu } from "@live_commerce_crm/../tests/tours/live_commerce_steps";

// The demo's customer service (陈静 Chen Jing, demo/res_users_demo.xml, reading
// Chinese) reads every live order of the demo company: the Live Orders list (default
// filter Paid) counts and adds up what the sessions count and add up; a fan's Live
// Orders smart button counts what its list shows.
//
// The numbers, from models/live_demo.py (_Story.orders), amounts in fen:
// - 双十一预热专场 Double 11 Warm-up: 12 paid orders of its 13 (6919450185932525289
//   was never paid), GMV 31910 + 68350 + 47730 + 77250 + 63820 + 15910 + 43340
//   + 32620 + 20620 + 41240 + 27860 + 31910 = 502560, ¥5,025.60 (an order refunded
//   before it shipped stays paid; 6919485512093376215 counts what the buyer paid,
//   27860, not its lines' 26860);
// - 冬季暖心好物 Winter Warmers Live: 6 paid orders, ¥2,373.40;
// - the two other sessions: none.
// So the company's live orders: 18 paid, GMV ¥7,399.00, the total of the sessions'
// GMV column. The fan 团子不熬夜 (demo_fan_30, assigned to her) bought twice:
// 6919485512093376215 (¥278.60) and 6919490344556677889 (¥399.00): 2 paid orders,
// GMV ¥677.60.
// The same figures were queried on make test's database (lcc_test, demo installed).
// No label is read: the tour holds in any language.
registry.category("web_tour.tours").add("live_commerce_crm_demo_service_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
        {
            content: "The sessions' cards: ¥5,025.60 and ¥2,373.40",
            trigger: ".o_kanban_record:contains('双十一预热专场'):contains('5,025.60')",
        },
        {
            trigger: ".o_kanban_record:contains('冬季暖心好物'):contains('2,373.40')",
        },
        {
            content: "The sessions as a list: their GMV adds up to ¥7,399.00",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        listTotal("7,399.00"),
        ...openMenu("menu_live_orders_root", "menu_live_orders", "Orders › Live Orders"),
        listRows(18, "Every paid live order of the company: 18, GMV ¥7,399.00"),
        {
            trigger: ".o_control_panel .o_pager_limit:contains(/^18$/)",
        },
        listTotal("7,399.00"),
        ...openMenu("menu_live_fans_root", "menu_live_fans", "Fans › Fans"),
        {
            content: "Look for the fan 团子不熬夜",
            trigger: ".o_kanban_view .o_kanban_record",
        },
        {
            trigger: ".o_searchview_input",
            run: "edit 团子不熬夜",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "Her card: two live orders",
            trigger: ".o_kanban_record:contains('团子不熬夜'):has(footer span > span:contains(/^2$/))",
            run: "click",
        },
        {
            content: "Her form: the Live Orders smart button counts two",
            trigger: ".o-form-buttonbox button[name=action_view_live_orders] .o_stat_value:contains(/^2$/)",
        },
        {
            trigger: ".o-form-buttonbox button[name=action_view_live_orders]",
            run: "click",
        },
        listRows(2, "Her two paid orders, GMV ¥677.60"),
        {
            trigger: ".o_list_view .o_data_row:contains('6919485512093376215')",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('6919490344556677889')",
        },
        listTotal("677.60"),
    ],
});
