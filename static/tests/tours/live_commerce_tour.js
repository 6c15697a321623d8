/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Opens the app as a host would: the sessions board, one session, then a fan.
registry.category("web_tour.tours").add("live_commerce_crm_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Live Commerce app",
            trigger: ".o_app[data-menu-xmlid='live_commerce_crm.menu_live_root']",
            run: "click",
        },
        {
            content: "The sessions board is grouped by status",
            trigger: ".o_kanban_group .o_column_title:contains('Live')",
        },
        {
            content: "Open the session that is on air",
            trigger: ".o_kanban_record:contains('Tour Launch Night')",
            run: "click",
        },
        {
            content: "The session shows its room",
            trigger: ".o_form_view .o_field_widget[name=room_id] input:value('tour-room-1')",
        },
        {
            content: "...and its featured products at their live price",
            trigger: ".o_field_widget[name=product_line_ids] .o_data_row:contains('Tour Cashmere Scarf')",
        },
        {
            content: "Go to the fans",
            trigger: "button[data-menu-xmlid='live_commerce_crm.menu_live_fans_root']",
            run: "click",
        },
        {
            trigger: "a[data-menu-xmlid='live_commerce_crm.menu_live_fans']",
            run: "click",
        },
        {
            content: "Open a fan",
            trigger: ".o_kanban_record:contains('Tour Fan Xiaolu')",
            run: "click",
        },
        {
            content: "Open the Fan tab",
            trigger: ".o_notebook_headers a.nav-link[name='live_fan']",
            run: "click",
        },
        {
            content: "The fan's platform identity is listed",
            trigger: ".o_field_widget[name=live_identity_ids] .o_data_row:contains('tour_open_id_1')",
        },
    ],
});
