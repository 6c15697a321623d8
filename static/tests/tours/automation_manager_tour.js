/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openLiveCommerce, openMenu } from "@live_commerce_crm/../tests/tours/live_commerce_steps";

// The demo's manager (admin) switches the At Risk win-back rule on and gives the
// dormant rule a longer delay, both in the list of automated actions. The rule
// names are the ready-made ones (data/live_flow_data.xml) as admin reads them
// (English); tests/test_tour.py switched the At Risk rule off first and checks
// what was saved.
registry.category("web_tour.tours").add("live_commerce_crm_automation_manager_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
        ...openMenu("menu_live_config", "menu_live_automations", "Configuration › Automated Actions"),
        {
            content: "The At Risk rule is off",
            trigger: ".o_data_row:contains('entered At Risk') td[name='active'] .o_field_boolean_toggle input:not(:checked)",
        },
        {
            content: "Switch it on",
            trigger: ".o_data_row:contains('entered At Risk') td[name='active'] .o_field_boolean_toggle input",
            run: "click",
        },
        {
            content: "It is on",
            trigger: ".o_data_row:contains('entered At Risk') td[name='active'] .o_field_boolean_toggle input:checked",
        },
        {
            content: "Edit the dormant rule's delay",
            trigger: ".o_data_row:contains('dormant 30 days') td[name='trg_date_range']",
            run: "click",
        },
        {
            content: "45 days instead of 30",
            trigger: ".o_data_row.o_selected_row td[name='trg_date_range'] input",
            run: "edit 45",
        },
        {
            content: "Save",
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_list_view:not(:has(.o_selected_row)) .o_data_row:contains('dormant 30 days') td[name='trg_date_range']:contains('45')",
        },
    ],
});
