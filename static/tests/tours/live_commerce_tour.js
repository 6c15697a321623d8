/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openLiveCommerce, openMenu } from "@live_commerce_crm/../tests/tours/live_commerce_steps";

// Opens the app as a host would: the sessions board, one session, then a fan.
registry.category("web_tour.tours").add("live_commerce_crm_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
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
        ...openMenu("menu_live_fans_root", "menu_live_fans", "Go to the fans"),
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
