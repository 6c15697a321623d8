#!/usr/bin/env python3
"""Simulate a live room: fans arriving and leaving, comment and like bursts, gifts,
follows, shares and orders, pushed to a running server signed (or encrypted) the way
each platform does it.

    scripts/simulate.py --url http://localhost:8069 --channel CODE --platform generic \\
        --app-secret SECRET [--room 7301002] [--rate 50] [--duration 60]

or, for channels read from a database (what `make run SIMULATE=1` does):

    scripts/simulate.py --url http://localhost:8069 --channels-json '[{"code": ..., "platform": ...}]' \\
        --sandbox-url http://127.0.0.1:8290

Orders: the generic channel pushes whole orders (order.paid), then, for some of them,
order.shipped, order.completed or refund.succeeded. Douyin shop, Kuaishou, WeChat
Channels and TikTok push only ids and the server fetches the order from the
platform's API: with --sandbox-url (scripts/platform_sandbox.py, the channel's API
Base URL), the simulator registers each channel's app with the channel's tokens, and
each order and after-sale in the sandbox before it pushes its id. Without a sandbox
those channels sell nothing (the server would ask the real platforms). Goods made to
order (LC-SCARF-EMB) are never shipped here: their manufacturing order waits for
someone to produce.

Needs only `requests` and the adapters in models/platforms (no Odoo).
"""
import argparse
import json
import os
import random
import sys
import threading
import time
import uuid

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
from platforms import Credentials, get_adapter  # noqa: E402

COMMENTS = ["主播好", "上链接", "这个多少钱", "有优惠券吗", "围巾什么颜色", "已拍", "包邮吗", "好看", "求讲解3号",
            "还有货吗", "能便宜点吗", "质量怎么样", "第一次来", "关注了", "666", "太划算了", "什么时候发货"]
NICKS = ["小鹿", "阿杰", "糖糖", "喵喵", "大熊", "橙子", "晴天", "米粒", "布丁", "海盐", "柚子", "星星", "奶茶"]
# The live session's goods: merchant code (the product's internal reference), name,
# live price in fen, the platforms' own SKU id, and how often each sells.
SKUS = [("LC-SCARF-01", "羊绒围巾 Cashmere Scarf", 31910, "1780000000101", 4),
        ("LC-EAR-05", "蓝牙耳机 Wireless Earbuds", 23910, "1780000000105", 3),
        ("LC-TEA-06", "白茶饼 White Tea Cake", 20630, "1780000000106", 3),
        ("LC-SCARF-EMB", "定制刺绣围巾 Embroidered Cashmere Scarf", 39900, "1780000000107", 1)]
MADE_TO_ORDER = {"LC-SCARF-EMB"}
CARRIERS = ["顺丰速运 SF Express", "中通快递 ZTO Express", "圆通速递 YTO Express", "京东物流 JD Logistics"]
ADDRESSES = [
    {"name": "张*", "phone": "138****5678", "province": "浙江省", "city": "杭州市", "district": "西湖区",
     "street": "文三路**号"},
    {"name": "李*", "phone": "139****2046", "province": "上海市", "city": "上海市", "district": "浦东新区",
     "street": "世纪大道***号"},
    {"name": "王*", "phone": "186****7311", "province": "广东省", "city": "深圳市", "district": "南山区",
     "street": "科技园南路**号"},
]
ID_ONLY = ("douyin_shop", "kuaishou_shop", "wechat_channels_shop", "tiktok_shop")
STATS_EVERY = 5  # seconds between two session.stats of a room (generic format)
FOLLOW_UP_AFTER = 15  # seconds an order waits, at least, before it ships or completes


class Room:
    """Who is in the room now; every platform stream draws its fans from here."""

    def __init__(self, size, seed):
        self.rng = random.Random(seed)
        self.run = uuid.uuid4().hex[:8]
        self.pool = [f"sim-{seed}-{i}" for i in range(size)]
        self.present = {}  # fan id -> entered at
        # What the platform would report in its room statistics (session.stats).
        self.visits = self.peak = self.likes = 0
        self.seen = set()

    def nickname(self, fan_id):
        return NICKS[hash(fan_id) % len(NICKS)] + fan_id[-3:]

    @staticmethod
    def union_id(fan_id):
        """The viewer's Douyin union id: one per person across the apps of the shop's
        Douyin developer account, the room app and the middleware's alike (each app
        has its own open ids). The server makes one fan of the ids it joins."""
        return "dyu-" + fan_id

    def step(self):
        """Fans arrive and leave; returns (entered, left[(fan, seconds)])."""
        entered, left = [], []
        for fan in self.rng.sample(self.pool, k=min(3, len(self.pool))):
            if fan not in self.present and self.rng.random() < 0.6:
                self.present[fan] = time.time()
                entered.append(fan)
                self.visits += 1
                self.seen.add(fan)
        for fan in list(self.present):
            if self.rng.random() < 0.03:
                left.append((fan, int(time.time() - self.present.pop(fan)) + self.rng.randint(30, 600)))
        self.peak = max(self.peak, len(self.present))
        return entered, left

    def someone(self):
        if not self.present:
            fan = self.rng.choice(self.pool)
            self.present[fan] = time.time()
            self.visits += 1
            self.seen.add(fan)
            self.peak = max(self.peak, 1)
        return self.rng.choice(list(self.present))

    def stats(self):
        """The room's statistics as the platform reports them (the generic format's
        session.stats): views, unique viewers, peak concurrent viewers, likes."""
        return {"pv": self.visits, "uv": len(self.seen), "pcu": self.peak, "likes": self.likes}


class Stream:
    """One channel's pushes, in the platform's own format, and the orders it sells."""

    def __init__(self, channel, url, room, room_id, rng, sandbox=None, order_every=20.0):
        self.creds = Credentials(
            id=0, code=channel["code"], platform=channel["platform"], company_id=0,
            app_key=channel.get("app_key"), app_secret=channel.get("app_secret"), token=channel.get("token"),
            encoding_aes_key=channel.get("encoding_aes_key"), message_secret=channel.get("message_secret"),
            shop_id=channel.get("shop_id"))
        self.channel = channel
        self.adapter = get_adapter(channel["platform"])
        self.url = f"{url.rstrip('/')}/live_commerce/webhook/{channel['code']}"
        self.room, self.room_id, self.rng = room, room_id, rng
        self.http = requests.Session()
        self.sent = self.events = self.errors = 0
        self.n = 0
        # Platforms that push only ids sell only when the sandbox answers for their API.
        platform = channel["platform"]
        self.sandbox = sandbox.rstrip("/") if sandbox and channel.get("api", True) else None
        self.ship_mode = channel.get("ship_mode") or "platform"
        self.sells = platform == "generic" or (platform in ID_ONLY and self.sandbox is not None)
        self.order_every = order_every
        self.next_order_at = time.time() + rng.uniform(1, order_every)
        self.next_follow_up_at = time.time() + order_every
        self.orders = []    # what it sold: the neutral form the sandbox takes, and where each order stands
        self.sold = 0
        self.pending = []   # generic events that go with the next push
        self.next_stats_at = time.time()

    def _id(self, kind):
        self.n += 1
        return f"{self.room.run}-{self.creds.code}-{kind}-{self.n}"

    def push(self, body, **sign_kwargs):
        headers, query, data = self.adapter.sign(self.creds, json.dumps(body, ensure_ascii=False).encode(),
                                                 **sign_kwargs)
        try:
            response = self.http.post(self.url, params=query, data=data, headers=headers, timeout=10)
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        self.sent += 1
        self.errors += not ok

    # -- the platform sandbox --------------------------------------------------
    def admin(self, what, document):
        """POST to the sandbox's admin endpoint /_sandbox/<what>; False when it failed."""
        try:
            response = self.http.post(f"{self.sandbox}/_sandbox/{what}", json=document, timeout=10)
            if response.status_code == 200:
                return response.json()
            print(f"  {self.creds.code}: sandbox /_sandbox/{what} answered {response.status_code}: "
                  f"{response.text[:200]}", flush=True)
        except requests.RequestException as exc:
            print(f"  {self.creds.code}: sandbox unreachable ({exc})", flush=True)
        self.errors += 1
        return False

    def register_app(self, wait=30):
        """The channel's app in the sandbox, with the tokens the channel holds."""
        if not self.sandbox or self.creds.platform not in ID_ONLY:
            return True
        app = {"platform": self.creds.platform, "app_key": self.creds.app_key, "app_secret": self.creds.app_secret,
               "sign_secret": self.channel.get("sign_secret"), "shop_cipher": self.channel.get("shop_cipher"),
               "access_token": self.channel.get("access_token"), "refresh_token": self.channel.get("refresh_token")}
        deadline = time.time() + wait
        while True:
            try:
                response = self.http.post(f"{self.sandbox}/_sandbox/apps", json=app, timeout=5)
                if response.status_code == 200:
                    return True
                print(f"  {self.creds.code}: the sandbox refused the app: {response.text[:200]}", flush=True)
                break
            except requests.RequestException:
                if time.time() > deadline:
                    print(f"  {self.creds.code}: no sandbox at {self.sandbox}", flush=True)
                    break
                time.sleep(1)
        self.sandbox, self.sells = None, False
        return False

    # -- orders ------------------------------------------------------------------
    def _order_ref(self):
        digits = 18 if self.creds.platform == "kuaishou_shop" else 19
        return str(self.rng.randint(10 ** (digits - 1), 10 ** digits - 1))

    def orders_tick(self):
        if not self.sells:
            return
        now = time.time()
        if now >= self.next_order_at:
            self.next_order_at = now + self.rng.expovariate(1.0 / self.order_every)
            self.sell(now)
        if now >= self.next_follow_up_at:
            self.next_follow_up_at = now + self.rng.expovariate(1.0 / self.order_every)
            self.follow_up(now)

    def sell(self, now):
        weights = [sku[4] for sku in SKUS]
        # A Kuaishou order is one SKU; elsewhere one or two.
        count = 1 if self.creds.platform == "kuaishou_shop" or self.rng.random() < 0.7 else 2
        chosen = []
        while len(chosen) < count:
            sku = self.rng.choices(SKUS, weights)[0]
            if sku not in chosen:
                chosen.append(sku)
        buyer = self.room.someone()
        order = {
            "order_ref": self._order_ref(), "status": "paid", "created_at": int(now) - 30, "paid_at": int(now),
            "updated_at": int(now), "buyer": buyer, "buyer_nickname": self.room.nickname(buyer),
            "room_id": self.room_id, "currency": "CNY", "address": self.rng.choice(ADDRESSES),
            "lines": [{"sku": platform_sku, "merchant_code": code, "name": name, "unit_price": price,
                       "quantity": self.rng.randint(1, 2)} for code, name, price, platform_sku, _weight in chosen],
            "shipments": [], "placed": now,
            "made_to_order": any(code in MADE_TO_ORDER for code, *_rest in chosen),
        }
        order["total"] = sum(line["unit_price"] * line["quantity"] for line in order["lines"])
        if self.notify(order, "paid"):
            self.orders.append(order)
            self.sold += 1

    def follow_up(self, now):
        """One order moves on: it ships, completes, or is refunded: most after-sales
        come after delivery (part of the price, no return), a few before shipping (all
        of it: the order is cancelled)."""
        ready = [order for order in self.orders if now - order["placed"] > FOLLOW_UP_AFTER]
        paid = [o for o in ready if o["status"] == "paid"]
        completed = [o for o in ready if o["status"] == "completed"]
        # A channel that ships from the Odoo warehouse: its deliveries are validated in
        # Odoo and uploaded to the sandbox; the simulated platform does not ship them.
        to_ship = [o for o in paid if not o["made_to_order"]] if self.ship_mode != "odoo" else []
        to_complete = [o for o in ready if o["status"] == "shipped" and now - o["shipped_at"] > FOLLOW_UP_AFTER]
        roll = self.rng.random()
        if roll < 0.15 and (paid or completed):
            order = self.rng.choice(completed if completed and (not paid or self.rng.random() < 0.7) else paid)
            before_shipping = order["status"] == "paid"
            amount = order["total"] if before_shipping else min(order["total"], self.rng.choice([500, 1000, 2000]))
            self.orders.remove(order)  # nothing more happens to it here
            refund = {"refund_ref": str(self.rng.randint(10 ** 15, 10 ** 16 - 1)), "order_ref": order["order_ref"],
                      "amount": amount, "state": "succeeded", "return_goods": False, "lines": [],
                      "reason": "拍错了 Ordered by mistake" if before_shipping else "价保 Price protection",
                      "kind": "cancellation" if before_shipping else "return"}
            self.notify(order, "refund", refund)
        elif roll < 0.6 and to_ship:
            order = min(to_ship, key=lambda o: o["placed"])
            order.update(status="shipped", shipped_at=now, updated_at=int(now), shipments=[{
                "tracking_ref": f"SIM{self.rng.randint(10 ** 11, 10 ** 12 - 1)}",
                "carrier": self.rng.choice(CARRIERS), "lines": [], "shipped_at": int(now)}])
            self.notify(order, "shipped")
        elif to_complete:
            order = min(to_complete, key=lambda o: o["shipped_at"])
            order.update(status="completed", updated_at=int(now))
            self.notify(order, "completed")
        # Completed orders stay a while for an after-sale, then are forgotten.
        self.orders = [o for o in self.orders if o["status"] != "completed" or now - o["updated_at"] < 600]

    def notify(self, order, what, refund=None):
        """Tell the server, the platform's way: a whole order for the generic format;
        for the others the sandbox learns the order (or after-sale) first, then the
        push names its ids. Returns False when the sandbox refused it."""
        if self.creds.platform == "generic":
            self.pending.extend(self.generic_events(order, what, refund))
            return True
        document = {key: value for key, value in order.items()
                    if key not in ("placed", "made_to_order", "total", "shipped_at")}
        if not self.admin("orders", dict(document, platform=self.creds.platform)):
            return False
        if refund and not self.admin("refunds", dict(refund, platform=self.creds.platform)):
            return False
        self.events += 1
        getattr(self, "notify_" + self.creds.platform)(order, what, refund)
        return True

    def generic_events(self, order, what, refund):
        now = int(time.time())
        ref = order["order_ref"]
        event = {"id": self._id("o"), "occurred_at": now, "room_id": self.room_id,
                 "fan": self.middleware_fan(order["buyer"])}
        if what == "paid":
            data = {"order_ref": ref, "currency": order["currency"], "total": order["total"],
                    "paid_at": order["paid_at"], "address": order["address"],
                    "lines": [{"sku": line["merchant_code"], "name": line["name"], "quantity": line["quantity"],
                               "unit_price": line["unit_price"]} for line in order["lines"]]}
            return [dict(event, type="order.paid", data=data)]
        if what == "shipped":
            parcel = order["shipments"][-1]
            return [dict(event, type="order.shipped", data={"order_ref": ref, "carrier": parcel["carrier"],
                                                             "tracking_ref": parcel["tracking_ref"]})]
        if what == "completed":
            return [dict(event, type="order.completed", data={"order_ref": ref})]
        return [dict(event, type="refund.succeeded", data={
            "order_ref": ref, "refund_ref": refund["refund_ref"], "amount": refund["amount"],
            "return_goods": refund["return_goods"], "reason": refund["reason"]})]

    def notify_douyin_shop(self, order, what, refund):
        now, ref = int(time.time()), order["order_ref"]
        data = {"p_id": int(ref), "s_ids": [int(ref)], "shop_id": int(self.creds.shop_id or 88123456),
                "update_time": now}
        if what == "paid":
            messages = [("100", dict(data, order_status=1, create_time=order["created_at"])),
                        ("101", dict(data, order_status=105, pay_amount=order["total"], pay_time=order["paid_at"]))]
        elif what == "shipped":
            messages = [("102", dict(data, order_status=3))]
        elif what == "completed":
            messages = [("103", dict(data, order_status=5))]
        else:
            messages = [("206", dict(data, s_id=int(ref), aftersale_id=int(refund["refund_ref"]),
                                     aftersale_status=12, refund_amount=refund["amount"]))]
        self.push([{"tag": tag, "msg_id": self._id("o"), "data": json.dumps(body)} for tag, body in messages])

    def notify_kuaishou_shop(self, order, what, refund):
        ref = int(order["order_ref"])
        info = {"oid": ref, "buyerOpenId": order["buyer"], "sellerId": int(self.creds.shop_id or 1),
                "updateTime": int(time.time() * 1000)}
        event = {"paid": "kwaishop_order_paySuccess", "shipped": "kwaishop_order_delivering",
                 "completed": "kwaishop_order_orderSuccess", "refund": "kwaishop_aftersales_updateRefund"}[what]
        if refund:
            info = dict(info, orderId=ref, refundId=int(refund["refund_ref"]), status=60)
        self.push({"eventId": self._id("e"), "msgId": self._id("m"), "appKey": self.creds.app_key,
                   "event": event, "info": json.dumps(info), "test": False,
                   "createTime": int(time.time() * 1000), "updateTime": int(time.time() * 1000)})

    def notify_wechat_channels_shop(self, order, what, refund):
        now = int(time.time())
        event = {"paid": "channels_ec_order_pay", "shipped": "channels_ec_order_deliver",
                 "completed": "channels_ec_order_confirm", "refund": "channels_ec_aftersale_update"}[what]
        message = {"ToUserName": "gh_shop", "FromUserName": order["buyer"], "CreateTime": now,
                   "MsgType": "event", "Event": event}
        if refund:
            message["finder_shop_aftersale_status_update"] = {
                "after_sale_order_id": int(refund["refund_ref"]), "status": "MERCHANT_REFUND_SUCCESS",
                "order_id": int(order["order_ref"])}
        else:
            message["order_info"] = {"order_id": int(order["order_ref"]), "pay_time": order["paid_at"]}
        self.push(message, timestamp=str(now), nonce=str(self.rng.randint(10**8, 10**9)))

    def notify_tiktok_shop(self, order, what, refund):
        now = int(time.time())
        data = {"order_id": order["order_ref"], "update_time": now}
        if refund:
            kind = "cancel_id" if refund["kind"] == "cancellation" else "return_id"
            body_type = 11 if refund["kind"] == "cancellation" else 12
            data = dict(data, **{kind: refund["refund_ref"]})
        else:
            body_type = 1
            data["order_status"] = {"paid": "AWAITING_SHIPMENT", "shipped": "IN_TRANSIT",
                                    "completed": "COMPLETED"}[what]
        self.push({"type": body_type, "tts_notification_id": self._id("n"), "shop_id": self.creds.shop_id or "7495",
                   "timestamp": now, "data": data})

    # -- per platform ------------------------------------------------------
    def tick(self):
        getattr(self, "tick_" + self.creds.platform)()

    def tick_generic(self):
        entered, left = self.room.step()
        now = int(time.time())
        events = []

        def event(kind, fan, **data):
            events.append({"id": self._id(kind), "type": kind, "occurred_at": now, "room_id": self.room_id,
                           "fan": self.middleware_fan(fan), "data": data})
        for fan in entered:
            event("fan.entered", fan)
        for fan, seconds in left:
            event("fan.left", fan, watch_seconds=seconds)
        for _ in range(self.rng.randint(0, 4)):
            event("comment", self.room.someone(), content=self.rng.choice(COMMENTS))
        for _ in range(self.rng.randint(0, 3)):
            count = self.rng.randint(1, 30)
            self.room.likes += count
            event("like", self.room.someone(), count=count)
        if self.rng.random() < 0.1:
            event("gift", self.room.someone(), gift_id="rose", count=self.rng.randint(1, 5), value=100)
        if self.rng.random() < 0.08:
            event("follow", self.room.someone())
        if self.rng.random() < 0.05:
            event("share", self.room.someone())
        self.orders_tick()
        events.extend(self.pending)
        self.pending = []
        if time.time() >= self.next_stats_at:
            # The room's statistics, as a platform reports them every few seconds:
            # PV, UV, peak viewers and likes move on the session.
            self.next_stats_at = time.time() + STATS_EVERY
            events.append({"id": self._id("stats"), "type": "session.stats", "occurred_at": now,
                           "room_id": self.room_id, "data": self.room.stats()})
        if events:
            self.events += len(events)
            self.push({"events": events})

    def middleware_fan(self, fan):
        """The middleware relays a live room: its own open id of the viewer, and the
        viewer's union id. The room is Douyin's unless the channel says which platform's
        viewers it relays (the demo's WeChat room relay: "viewer_platform")."""
        return {"platform": self.channel.get("viewer_platform") or "douyin_live", "id_type": "open_id", "id": fan,
                "nickname": self.room.nickname(fan), "union_id": self.room.union_id(fan)}

    def tick_douyin_live(self):
        self.room.step()
        now_ms = int(time.time() * 1000)
        streams = {
            "live_comment": [{"msg_id": self._id("c"), "sec_openid": fan, "union_id": self.room.union_id(fan),
                              "content": self.rng.choice(COMMENTS), "nickname": self.room.nickname(fan),
                              "avatar_url": "", "timestamp": now_ms}
                             for fan in (self.room.someone() for _ in range(self.rng.randint(0, 4)))],
            "live_like": [{"msg_id": self._id("l"), "sec_openid": fan, "union_id": self.room.union_id(fan),
                           "like_num": self.rng.randint(1, 40), "nickname": self.room.nickname(fan),
                           "timestamp": now_ms}
                          for fan in (self.room.someone() for _ in range(self.rng.randint(0, 3)))],
            "live_gift": [{"msg_id": self._id("g"), "sec_openid": fan, "union_id": self.room.union_id(fan),
                           "sec_gift_id": "rose", "gift_num": 1, "gift_value": 100, "timestamp": now_ms}
                          for fan in ([self.room.someone()] if self.rng.random() < 0.1 else [])],
        }
        self.room.likes += sum(like["like_num"] for like in streams["live_like"])
        for msg_type, messages in streams.items():
            if messages:
                self.events += len(messages)
                self.push(messages, msg_type=msg_type, room_id=self.room_id,
                          nonce=uuid.uuid4().hex[:12], timestamp_ms=now_ms)

    tick_douyin_shop = tick_kuaishou_shop = tick_wechat_channels_shop = tick_tiktok_shop = orders_tick


def run(streams, rate, duration):
    """Each stream ticks `rate` times a second until `duration` (0: forever) ends."""
    deadline = time.time() + duration if duration else float("inf")
    stop = threading.Event()

    def loop(stream):
        next_at = time.time()
        while not stop.is_set() and time.time() < deadline:
            stream.tick()
            next_at += 1.0 / rate
            time.sleep(max(0.0, next_at - time.time()))

    threads = [threading.Thread(target=loop, args=(s,), daemon=True) for s in streams]
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads):
            time.sleep(5)
            print("  " + "  ".join(f"{s.creds.code}: {s.events} events in {s.sent} pushes, {s.sold} orders "
                                   f"({s.errors} errors)" for s in streams), flush=True)
    except KeyboardInterrupt:
        stop.set()
    return sum(s.errors for s in streams)


def make_streams(channels, url, fans, seed, room_id=None, sandbox=None, order_every=20.0):
    """One stream per channel; one Room per live room, shared by the channels that
    push for it (the Douyin room app and the middleware see the same viewers), and
    each room with its own people, so each session's PV, UV and peak are its own."""
    rooms = {}
    rng = random.Random(seed)
    streams = []
    for channel in channels:
        room = room_id or channel.get("room") or "7301002"
        if room not in rooms:
            rooms[room] = Room(fans, seed + len(rooms))
        streams.append(Stream(channel, url, rooms[room], room, rng, sandbox=sandbox, order_every=order_every))
    return streams


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--channels-json", help="a JSON list of channels (code, platform and credentials)")
    parser.add_argument("--channel", help="the channel code, with --platform and its credentials")
    parser.add_argument("--platform", default="generic")
    parser.add_argument("--app-key")
    parser.add_argument("--app-secret")
    parser.add_argument("--token")
    parser.add_argument("--encoding-aes-key")
    parser.add_argument("--message-secret")
    parser.add_argument("--shop-id", help="the channel's Platform Shop ID, if it has one")
    parser.add_argument("--sign-secret", help="Kuaishou: the channel's Sign Secret (order API)")
    parser.add_argument("--shop-cipher", help="TikTok Shop: the channel's Shop Cipher (order API)")
    parser.add_argument("--access-token", help="the channel's order API access token, for the sandbox")
    parser.add_argument("--refresh-token", help="the channel's order API refresh token, for the sandbox")
    parser.add_argument("--sandbox-url", help="the platform sandbox the channels' API Base URL points at "
                                              "(scripts/platform_sandbox.py): orders of platforms that push only ids")
    parser.add_argument("--room", help="the platform room id of the stream (default: each channel's 'room', "
                                       "else 7301002)")
    parser.add_argument("--order-every", type=float, default=20.0,
                        help="seconds between two orders of a channel, on average (and between two follow-ups)")
    parser.add_argument("--fans", type=int, default=200, help="how many different people may show up")
    parser.add_argument("--rate", type=float, default=5, help="pushes per second and channel (interactions batch)")
    parser.add_argument("--duration", type=float, default=0, help="seconds; 0 runs until interrupted")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.channels_json:
        channels = json.loads(args.channels_json)
    elif args.channel:
        channels = [{"code": args.channel, "platform": args.platform, "app_key": args.app_key,
                     "app_secret": args.app_secret, "token": args.token,
                     "encoding_aes_key": args.encoding_aes_key, "message_secret": args.message_secret,
                     "shop_id": args.shop_id, "sign_secret": args.sign_secret, "shop_cipher": args.shop_cipher,
                     "access_token": args.access_token, "refresh_token": args.refresh_token}]
    else:
        parser.error("give --channel or --channels-json")
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    streams = make_streams(channels, args.url, args.fans, seed, room_id=args.room, sandbox=args.sandbox_url,
                           order_every=args.order_every)
    print(f"Simulating {', '.join(f'{s.creds.code} (room {s.room_id})' for s in streams)} against {args.url} "
          f"({args.rate} pushes/s per channel, an order every {args.order_every:g}s"
          f"{'' if not args.duration else f', {args.duration:.0f}s'})", flush=True)
    for stream in streams:
        if stream.creds.platform in ID_ONLY and stream.register_app() and stream.sells:
            print(f"  {stream.creds.code}: orders registered in the sandbox at {stream.sandbox}, then pushed by id",
                  flush=True)
        elif stream.creds.platform in ID_ONLY:
            print(f"  {stream.creds.code}: pushes only ids and its API is not the sandbox's: it sells nothing",
                  flush=True)
    errors = run(streams, args.rate, args.duration)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
