/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openLiveCommerce, sessionOrders } from "@live_commerce_crm/../tests/tours/live_commerce_steps";

// The demo's host (demo/res_users_demo.xml, reading Chinese) opens the live session of
// the demo story: its card, its form and its orders show the same paid orders and GMV
// (six orders, ¥2,373.40: models/live_demo.py). No label is read: the tour holds in
// any language.
registry.category("web_tour.tours").add("live_commerce_crm_demo_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
        {
            content: "The live session's card shows its GMV",
            trigger: ".o_kanban_record:contains('冬季暖心好物'):contains('2,373.40')",
            run: "click",
        },
        {
            content: "Its form: six paid orders, GMV and net GMV in yuan",
            trigger: ".o-form-buttonbox button[name=action_view_orders] .o_stat_value:contains('6')",
        },
        {
            trigger: ".o-form-buttonbox .o_stat_value:contains('¥'):contains('2,373.40')",
        },
        ...sessionOrders(6, "2,373.40"),
    ],
});
