/** @odoo-module **/

import { Component, markup, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { formatMonetary } from "@web/views/fields/formatters";

// The SLA clocks count down in minutes: the queue is read again every minute.
const QUEUE_REFRESH_MS = 60000;

export class LiveServiceWorkbench extends Component {
    static template = "live_commerce_crm.LiveServiceWorkbench";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ queue: [], refunds: [], fan: null, timeline: null });
        onWillStart(() => this.load());
        const interval = setInterval(() => this.load(), QUEUE_REFRESH_MS);
        onWillUnmount(() => clearInterval(interval));
    }

    async load() {
        const data = await this.orm.call("res.partner", "live_service_workbench_data", []);
        this.state.queue = data.queue;
        this.state.refunds = data.refunds;
    }

    clockLabel(item) {
        if (item.kind === "sla") {
            return item.minutes_left >= 0
                ? _t("%s min left", item.minutes_left)
                : _t("%s min overdue", -item.minutes_left);
        }
        return _t("waiting %s min", item.waiting_minutes);
    }

    formatDeadline(refund) {
        return _t("Reply by %s", formatDateTime(deserializeDateTime(refund.deadline)));
    }

    formatMoney(refund) {
        return `${formatMonetary(refund.amount || 0, { currencyId: false })} ${refund.currency}`;
    }

    async selectFan(partnerId) {
        const [fan] = await this.orm.read("res.partner", [partnerId], ["display_name", "fan_timeline_html"]);
        this.state.fan = fan;
        // The timeline is rendered by the server (QWeb, escaped there).
        this.state.timeline = markup(fan.fan_timeline_html || "");
    }

    openFan() {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "res.partner",
            res_id: this.state.fan.id,
            views: [[false, "form"]],
        });
    }
}

registry.category("actions").add("live_commerce_crm.service_workbench", LiveServiceWorkbench);
