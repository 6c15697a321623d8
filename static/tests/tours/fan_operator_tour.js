/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openLiveCommerce, openMenu } from "@live_commerce_crm/../tests/tours/live_commerce_steps";

// An operator (customer service) finds the champions among the fans and reads one's
// timeline: the sessions it attended, each with what it did there, and its orders.
// The data comes from tests/test_tour.py (test_operator_filters_champions_and_reads_a_timeline),
// read in English.
registry.category("web_tour.tours").add("live_commerce_crm_fan_operator_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
        ...openMenu("menu_live_fans_root", "menu_live_fans", "Fans › Fans"),
        {
            content: "The fans' board, a column per segment",
            trigger: ".o_kanban_view .o_kanban_group .o_column_title:contains('Champions')",
        },
        {
            content: "Open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Filter the champions",
            trigger: ".o_filter_menu .o_menu_item:contains('Champions')",
            run: "click",
        },
        {
            content: "Only champions are left",
            trigger: ".o_searchview_facet:contains('Champions')",
        },
        {
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains('Tour Passer-by')))",
        },
        {
            content: "Open the champion",
            trigger: ".o_kanban_record:contains('Tour Champion Lulu')",
            run: "click",
        },
        {
            content: "Open its timeline",
            trigger: ".o_notebook_headers a.nav-link[name='live_fan_timeline']",
            run: "click",
        },
        {
            content: "Its last order comes first",
            trigger: ".o_live_fan_timeline tbody tr:first-child.o_live_fan_timeline_order:contains('TOUR-ORDER')",
        },
        {
            content: "Then the session it attended, with what it did there",
            trigger: ".o_live_fan_timeline tr.o_live_fan_timeline_session:contains('Tour Champions Night'):contains('12 comments')",
        },
    ],
});
