/** @odoo-module **/

import { Component, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { formatFloat, formatInteger, formatMonetary, formatPercentage } from "@web/views/fields/formatters";

// The stream keeps at most this many comments in the DOM (the server sends at most
// as many per read): a busy room (200 comments/s) shows its newest, never freezes.
export const MAX_COMMENTS = 300;
// At most one re-read per this many milliseconds, however many notifications come.
export const REFRESH_INTERVAL_MS = 500;
const BUS_NOTIFICATION = "live_commerce_crm/session_updated";

function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Cut a comment into parts, the intent keywords marked: rendered as text nodes and
 * <mark> elements by the template, never as HTML.
 */
export function highlightParts(text, keywordRegExp) {
    if (!keywordRegExp || !text) {
        return [{ text, hit: false }];
    }
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(keywordRegExp)) {
        if (match.index > last) {
            parts.push({ text: text.slice(last, match.index), hit: false });
        }
        parts.push({ text: match[0], hit: true });
        last = match.index + match[0].length;
    }
    if (last < text.length) {
        parts.push({ text: text.slice(last), hit: false });
    }
    return parts;
}

/** Run `callback` at most once per `interval` ms; calls in between are merged into one. */
export function throttle(callback, interval) {
    let timer = null;
    let pending = false;
    let lastRun = 0;
    const run = async () => {
        lastRun = Date.now();
        pending = false;
        try {
            await callback();
        } finally {
            timer = null;
            if (pending) {
                schedule();
            }
        }
    };
    const schedule = () => {
        if (timer) {
            pending = true;
            return;
        }
        timer = setTimeout(run, Math.max(0, lastRun + interval - Date.now()));
    };
    schedule.cancel = () => {
        clearTimeout(timer);
        timer = null;
        pending = false;
    };
    return schedule;
}

export class LiveWorkbench extends Component {
    static template = "live_commerce_crm.LiveWorkbench";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.notification = useService("notification");
        this.busService = useService("bus_service");
        this.state = useState({
            sessions: [],
            sessionId: false,
            data: null,
            comments: [],
            selectedFan: null,
            tagId: "",
            programId: "",
            lastCoupon: null,
        });
        this.lastCommentId = 0;
        this.keywordRegExp = null;
        this.choices = { tags: [], programs: [], keywords: [] };
        this.channel = null;
        this.scheduleRefresh = throttle(() => this.refresh(), REFRESH_INTERVAL_MS);
        this.onNotification = (payload) => {
            if (payload && payload.session_id === this.state.sessionId) {
                this.scheduleRefresh();
            }
        };
        this.busService.subscribe(BUS_NOTIFICATION, this.onNotification);
        onWillStart(async () => {
            this.state.sessions = await this.orm.call("live.session", "workbench_sessions", []);
            const params = this.props.action?.params || {};
            const context = this.props.action?.context || {};
            const wanted = params.session_id || context.active_id;
            const session = this.state.sessions.find((s) => s.id === wanted) || this.state.sessions[0];
            if (session) {
                await this.openSession(session.id);
            }
        });
        onWillUnmount(() => {
            this.scheduleRefresh.cancel();
            this.busService.unsubscribe(BUS_NOTIFICATION, this.onNotification);
            if (this.channel) {
                this.busService.deleteChannel(this.channel);
            }
        });
    }

    async openSession(sessionId) {
        if (this.channel) {
            this.busService.deleteChannel(this.channel);
        }
        this.scheduleRefresh.cancel();
        this.state.sessionId = sessionId;
        this.state.comments = [];
        this.state.selectedFan = null;
        this.lastCommentId = 0;
        this.channel = `live_commerce_crm.session_${sessionId}`;
        this.busService.addChannel(this.channel);
        await this.refresh();
    }

    /** One RPC: the tiles, products, hot fans and the comments after the last one seen. */
    async refresh() {
        const sessionId = this.state.sessionId;
        if (!sessionId) {
            return;
        }
        const data = await this.orm.call("live.session", "workbench_data", [sessionId, this.lastCommentId]);
        if (sessionId !== this.state.sessionId) {
            return; // another session was opened meanwhile
        }
        if (data.keywords) {
            this.choices = { tags: data.tags, programs: data.programs, keywords: data.keywords };
            this.keywordRegExp = data.keywords.length
                ? new RegExp(data.keywords.map(escapeRegExp).join("|"), "giu")
                : null;
            this.state.tagId = this.state.tagId || (data.tags[0] && data.tags[0].id) || "";
            this.state.programId = this.state.programId || (data.programs[0] && data.programs[0].id) || "";
        }
        // Two reads may overlap (a session opened during a throttled read): keep
        // only what this screen has not shown yet.
        const seen = this.lastCommentId;
        const fresh = data.comments.filter((comment) => comment.id > seen).map((comment) => ({
            ...comment,
            parts: highlightParts(comment.content, this.keywordRegExp),
            hasKeyword: false,
        }));
        for (const comment of fresh) {
            comment.hasKeyword = comment.parts.some((part) => part.hit);
        }
        if (fresh.length) {
            this.lastCommentId = Math.max(this.lastCommentId, fresh[0].id);
            // One assignment, one render, whatever the number of new comments.
            this.state.comments = fresh.concat(this.state.comments).slice(0, MAX_COMMENTS);
        }
        this.state.data = data;
    }

    get tags() {
        return this.choices.tags;
    }

    get programs() {
        return this.choices.programs;
    }

    formatTile(tile) {
        const value = tile.value || 0;
        if (tile.type === "monetary") {
            return formatMonetary(value, { currencyId: this.currencyId });
        }
        if (tile.type === "integer") {
            return formatInteger(value);
        }
        if (tile.type === "percentage") {
            return formatPercentage(value);
        }
        return formatFloat(value, { digits: [16, 2] });
    }

    formatMoney(value) {
        return formatMonetary(value || 0, { currencyId: this.currencyId });
    }

    formatQty(value) {
        return formatFloat(value || 0, { digits: [16, 0] });
    }

    formatTime(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : _t("never");
    }

    get currencyId() {
        return this.state.data?.session.currency_id;
    }

    onSessionChange(ev) {
        this.openSession(parseInt(ev.target.value));
    }

    selectFan(partnerId, name, badges) {
        this.state.selectedFan = { id: partnerId, name, badges: badges || [], tags: null };
        this.state.lastCoupon = null;
    }

    async tagFan() {
        const fan = this.state.selectedFan;
        if (!fan || !this.state.tagId) {
            return;
        }
        const result = await this.orm.call("live.session", "workbench_tag_fan", [
            this.state.sessionId, fan.id, parseInt(this.state.tagId),
        ]);
        if (this.state.selectedFan && this.state.selectedFan.id === fan.id) {
            this.state.selectedFan.tags = result.tags;
        }
        this.notification.add(_t("%(fan)s tagged %(tag)s", { fan: result.partner, tag: result.tag }), {
            type: "success",
        });
    }

    async assignFan() {
        const fan = this.state.selectedFan;
        const result = await this.orm.call("live.session", "workbench_assign_fan", [this.state.sessionId, fan.id]);
        const message = result.existing
            ? _t("%(fan)s is already with %(user)s", { fan: result.partner, user: result.user })
            : _t("%(fan)s assigned to %(user)s", { fan: result.partner, user: result.user });
        this.notification.add(message, { type: "success" });
    }

    async sendCoupon() {
        const fan = this.state.selectedFan;
        if (!fan || !this.state.programId) {
            return;
        }
        const result = await this.orm.call("live.session", "workbench_send_coupon", [
            this.state.sessionId, fan.id, parseInt(this.state.programId),
        ]);
        this.state.lastCoupon = result;
        this.notification.add(
            _t("Coupon %(code)s (%(program)s) for %(fan)s", {
                code: result.code, program: result.program, fan: result.partner,
            }),
            { type: "success" }
        );
    }

    openFan() {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "res.partner",
            res_id: this.state.selectedFan.id,
            views: [[false, "form"]],
        });
    }

    async present(product) {
        await this.orm.call("live.session", "workbench_present", [this.state.sessionId, product.id]);
        await this.refresh();
    }

    async stopPresenting(product) {
        await this.orm.call("live.session", "workbench_stop_presenting", [this.state.sessionId, product.id]);
        await this.refresh();
    }
}

registry.category("actions").add("live_commerce_crm.workbench", LiveWorkbench);
