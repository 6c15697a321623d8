/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openLiveCommerce, sessionOrders } from "@live_commerce_crm/../tests/tours/live_commerce_steps";

// The demo's field controller (王强 Wang Qiang, demo/res_users_demo.xml, reading
// Chinese) runs the live session of the demo story with the host: he sees the same
// paid orders and GMV as she does, and reads (read only) the orders, which came
// through the middleware channel, not the Douyin channel the session is on.
//
// The numbers, from models/live_demo.py (_Story.orders), amounts in fen:
// 冬季暖心好物 Winter Warmers Live has six paid orders: 31910 + (23910 + 20630)
// + 2 * 20630 + 39900 + 2 * 23910 + 31910 = 237340, i.e. GMV ¥2,373.40 (the
// platform's discount of 1000 on the second order is part of the GMV), and no
// refund, so net GMV ¥2,373.40. Its order 6919490344556677889 is one embroidered
// scarf made to order (LC-SCARF-EMB) at ¥399.00.
// The same figures were queried on make test's database (lcc_test, demo installed).
// No label is read: the tour holds in any language.
registry.category("web_tour.tours").add("live_commerce_crm_demo_controller_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
        {
            content: "The live session's card: six paid orders, GMV ¥2,373.40",
            trigger: ".o_kanban_record:contains('冬季暖心好物'):contains('2,373.40'):has(span.ms-auto > span:contains(/^6$/))",
            run: "click",
        },
        {
            content: "He is the session's field controller",
            trigger: ".o_form_view .o_field_widget[name=field_controller_id] input:value('王强')",
        },
        {
            content: "Its form: six paid orders, GMV and net GMV in yuan",
            trigger: ".o-form-buttonbox button[name=action_view_orders] .o_stat_value:contains(/^6$/)",
        },
        {
            trigger: ".o-form-buttonbox div[name=gmv_box] .o_stat_value:contains('¥'):contains('2,373.40')",
        },
        {
            trigger: ".o-form-buttonbox div[name=net_gmv_box] .o_stat_value:contains('¥'):contains('2,373.40')",
        },
        ...sessionOrders(6, "2,373.40"),
        {
            content: "Open the order made to order",
            trigger: ".o_list_view .o_data_row:contains('6919490344556677889') td[name=platform_order_ref]",
            run: "click",
        },
        {
            content: "He reads the order and its lines",
            trigger: ".o_form_view .o_field_widget[name=order_line] .o_data_row:contains('LC-SCARF-EMB')",
        },
        {
            content: "Re-running platform events is for managers",
            trigger: ".o_form_view:has(.o_field_widget[name=order_line]):not(:has(button[name=action_live_rerun_events]))",
        },
        {
            content: "Its Platform tab",
            trigger: ".o_notebook_headers a.nav-link[name='live_platform']",
            run: "click",
        },
        {
            content: "The order's GMV: ¥399.00",
            trigger: ".o_form_view .o_field_widget[name=live_gmv]:contains('399.00')",
        },
    ],
});
