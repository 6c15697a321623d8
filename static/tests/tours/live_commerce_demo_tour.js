/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The demo's host (demo/res_users_demo.xml, reading Chinese) opens the live session of
// the demo story: its card, its form and its orders show the same paid orders and GMV
// (six orders, ¥2,373.40: models/live_demo.py). No label is read: the tour holds in
// any language.
registry.category("web_tour.tours").add("live_commerce_crm_demo_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Live Commerce app",
            trigger: ".o_app[data-menu-xmlid='live_commerce_crm.menu_live_root']",
            run: "click",
        },
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
        {
            content: "Open its paid orders",
            trigger: ".o-form-buttonbox button[name=action_view_orders]",
            run: "click",
        },
        {
            content: "The same six orders, the same GMV",
            trigger: ".o_list_view tbody:not(:has(.o_data_row:nth-child(7))) .o_data_row:nth-child(6)",
        },
        {
            trigger: ".o_list_view tfoot:contains('2,373.40')",
        },
    ],
});
