/** @odoo-module **/

import { registry } from "@web/core/registry";
import { listRows, listTotal, openLiveCommerce, openMenu } from "@live_commerce_crm/../tests/tours/live_commerce_steps";

// The demo's manager (admin, in the demo company: demo/res_users_demo.xml) checks the
// orders: the Live Orders list adds up what the sessions' cards show, Orders Needing
// Attention lists what the story left to fix, and no order event failed.
//
// The numbers, from models/live_demo.py (_Story.orders), amounts in fen:
// - 双十一预热专场 Double 11 Warm-up: 12 paid orders, GMV ¥5,025.60; 冬季暖心好物
//   Winter Warmers Live: 6 paid orders, GMV ¥2,373.40 (see the service's tour for
//   the sums); Live Orders (default filter Paid): 18 orders, GMV ¥7,399.00;
// - Orders Needing Attention: two of the warm-up, 6919484406651289930, four thermos
//   cups when two were left (short of stock, GMV 4 * 10310 = ¥412.40), and
//   6919485512093376215, whose buyer paid ¥278.60 for lines of ¥268.60 (amount
//   difference), and one of the live session, 6919490344556677889, the scarf
//   embroidered to order (¥399.00), neither reserved nor produced yet while its
//   manufacturing order waits (short of stock): 3 orders, GMV ¥1,090.00;
// - Order Events Needing Attention: none, every event of the story was applied.
// The same figures were queried on make test's database (lcc_test, demo installed).
// No label is read: the tour holds in any language.
registry.category("web_tour.tours").add("live_commerce_crm_demo_manager_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
        {
            content: "The sessions' cards: 12 paid orders, ¥5,025.60; 6 paid orders, ¥2,373.40",
            trigger: ".o_kanban_record:contains('双十一预热专场'):contains('5,025.60'):has(span.ms-auto > span:contains(/^12$/))",
        },
        {
            trigger: ".o_kanban_record:contains('冬季暖心好物'):contains('2,373.40'):has(span.ms-auto > span:contains(/^6$/))",
        },
        ...openMenu("menu_live_orders_root", "menu_live_orders", "Orders › Live Orders"),
        listRows(18, "The sessions' orders: 12 + 6 = 18, GMV ¥7,399.00"),
        {
            trigger: ".o_control_panel .o_pager_limit:contains(/^18$/)",
        },
        listTotal("7,399.00"),
        ...openMenu("menu_live_orders_root", "menu_live_orders_attention", "Orders › Orders Needing Attention"),
        listRows(3, "Two orders of the warm-up (short of stock, an amount difference), one made to order on air"),
        {
            trigger: ".o_list_view .o_data_row:contains('6919484406651289930'):contains('双十一预热专场')",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('6919485512093376215'):contains('双十一预热专场')",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('6919490344556677889'):contains('冬季暖心好物')",
        },
        listTotal("1,090.00"),
        ...openMenu("menu_live_orders_root", "menu_live_order_events_failed", "Orders › Order Events Needing Attention"),
        {
            content: "No order event failed: the list is empty",
            trigger: ".o_list_view .o_view_nocontent",
        },
    ],
});
