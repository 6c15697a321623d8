/** @odoo-module **/

import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Steps the role tours share. No label is read: they hold in any language.

/** From the home screen: the Live Commerce app. */
export function openLiveCommerce() {
    return [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Live Commerce app",
            trigger: ".o_app[data-menu-xmlid='live_commerce_crm.menu_live_root']",
            run: "click",
        },
        {
            // The app's first screen is the first data the user's browser loads
            // (menus, translations, the sessions' figures): on a loaded 2-core
            // machine it has been seen to take longer than a step's usual 10 s.
            content: "The app's first screen is shown",
            trigger: ".o_action_manager .o_view_controller",
            timeout: 30000,
        },
    ];
}

/** A menu of the app: its top-level entry, then the item. */
export function openMenu(root, item, content) {
    return [
        { content, trigger: `button[data-menu-xmlid='live_commerce_crm.${root}']`, run: "click" },
        { trigger: `a[data-menu-xmlid='live_commerce_crm.${item}']`, run: "click" },
    ];
}

/** The list shows exactly `count` rows. */
export function listRows(count, content) {
    return {
        content,
        trigger: `.o_list_view tbody:not(:has(.o_data_row:nth-child(${count + 1}))) .o_data_row:nth-child(${count})`,
    };
}

/** The list's total row shows `amount`. */
export function listTotal(amount) {
    return { trigger: `.o_list_view tfoot:contains('${amount}')` };
}

/** From a live session's form: its paid orders, `count` of them adding up to `gmv`. */
export function sessionOrders(count, gmv) {
    return [
        { content: "Open its paid orders", trigger: ".o-form-buttonbox button[name=action_view_orders]", run: "click" },
        listRows(count, "The same orders, the same GMV"),
        listTotal(gmv),
    ];
}
