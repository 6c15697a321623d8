/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openLiveCommerce, openMenu } from "@live_commerce_crm/../tests/tours/live_commerce_steps";

// The demo's manager (admin, demo company) compares the two streams of the demo story
// on Reporting › Session Board, one row per session (report/live_session_board.py).
//
// The numbers, by hand from models/live_demo.py (_Story):
// - 双十一预热专场 Double 11 Warm-up: the whole story's audience enters once, the 12
//   BUYERS and 2 NEWCOMERS: PV 14, UV 14; 13 orders placed, 12 paid (the one never paid
//   is left out, the one refunded before shipping was paid) by 9 people (00, 11, 21,
//   10, 19, 28, 24, 30, 09), GMV ¥5,025.60; conversion 9 / 14 = 64.29%.
// - 冬季暖心好物 Winter Warmers Live: 8 of those fans enter (audience size 8): PV 8, UV 8;
//   6 paid orders by 6 people (03, 06, 09, 30, 01 and the first newcomer), GMV
//   ¥2,373.40; conversion 6 / 8 = 75.00%.
// No session sends platform statistics in the demo, so PV and UV are the entries and
// the fans seen. No label is read: the tour holds in any language.
function boardRow(name, cells, content) {
    const has = Object.entries(cells)
        .map(([field, value]) => `:has(td[name='${field}']:contains(/^${value}$/))`)
        .join("");
    return { content, trigger: `.o_list_view .o_data_row:contains('${name}')${has}` };
}

registry.category("web_tour.tours").add("live_commerce_crm_board_manager_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
        ...openMenu("menu_live_reporting", "menu_live_session_board", "Reporting › Session Board"),
        boardRow(
            "双十一预热专场",
            { pv: "14", uv: "14", buyer_count: "9", order_count: "12", gmv: "¥ 5,025.60", conversion_people: "64.29%" },
            "The warm-up: 9 buyers of 14 viewers, 12 paid orders, ¥5,025.60"
        ),
        boardRow(
            "冬季暖心好物",
            { pv: "8", uv: "8", buyer_count: "6", order_count: "6", gmv: "¥ 2,373.40", conversion_people: "75%" },
            "The live stream: 6 buyers of 8 viewers, 6 paid orders, ¥2,373.40"
        ),
    ],
});
