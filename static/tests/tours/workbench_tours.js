/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openLiveCommerce } from "@live_commerce_crm/../tests/tours/live_commerce_steps";

// The host opens the workbench on her live session, marks a product as presented and
// tags a fan from the comment stream. Data: tests/test_workbench.py
// (test_host_presents_a_product_and_tags_a_fan_from_the_stream), read in English.
registry.category("web_tour.tours").add("live_commerce_crm_workbench_host_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
        {
            content: "Open the workbench",
            trigger: "[data-menu-xmlid='live_commerce_crm.menu_live_workbench']",
            run: "click",
        },
        {
            content: "It opens on her live session, with its tiles",
            trigger: ".o_live_workbench .o_live_tile[data-key='gmv']",
        },
        {
            content: "The fan's comment, its intent keyword highlighted",
            trigger: ".o_live_comment:contains('Tour Fan Xiaolu') mark.o_live_keyword",
        },
        {
            content: "Present the scarf now",
            trigger: ".o_live_workbench_product:contains('Tour Cashmere Scarf') .o_live_present_now",
            run: "click",
        },
        {
            content: "The scarf is being presented",
            trigger: ".o_live_workbench_product.o_live_presenting:contains('Tour Cashmere Scarf')",
        },
        {
            content: "Choose the fan from the stream",
            trigger: ".o_live_comment_fan:contains('Tour Fan Xiaolu')",
            run: "click",
        },
        {
            content: "Pick the tag",
            trigger: ".o_live_fan_panel:contains('Tour Fan Xiaolu') select.o_live_fan_tag_select",
            run() {
                const select = this.anchor;
                const option = [...select.options].find((o) => o.textContent.trim() === "Tour Hot Lead");
                select.value = option.value;
                select.dispatchEvent(new Event("change"));
            },
        },
        {
            content: "Tag the fan",
            trigger: ".o_live_fan_panel .o_live_fan_tag",
            run: "click",
        },
        {
            content: "The tag is on the fan",
            trigger: ".o_live_fan_panel .o_live_fan_tags:contains('Tour Hot Lead')",
        },
    ],
});

// Customer service opens a fan waiting in the queue: the fan's timeline shows beside
// it, then the fan's form. Data: tests/test_workbench.py
// (test_service_opens_a_fan_from_the_queue).
registry.category("web_tour.tours").add("live_commerce_crm_workbench_service_tour", {
    url: "/odoo",
    steps: () => [
        ...openLiveCommerce(),
        {
            content: "Open the service workbench",
            trigger: "[data-menu-xmlid='live_commerce_crm.menu_live_service_workbench']",
            run: "click",
        },
        {
            content: "Choose the waiting fan",
            trigger: ".o_live_service_queue .o_live_service_queue_item:contains('Tour Waiting Fan')",
            run: "click",
        },
        {
            content: "The fan's timeline shows beside the queue",
            trigger: ".o_live_service_fan:contains('Tour Waiting Fan') .o_live_service_timeline .o_live_fan_timeline",
        },
        {
            content: "Open the fan",
            trigger: ".o_live_service_open_fan",
            run: "click",
        },
        {
            content: "The fan's form",
            trigger: ".o_form_view .o_breadcrumb:contains('Tour Waiting Fan')",
        },
    ],
});
