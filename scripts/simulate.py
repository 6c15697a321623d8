#!/usr/bin/env python3
"""Simulate a live room: fans arriving and leaving, comment and like bursts, gifts,
follows, shares and orders, pushed to a running server signed (or encrypted) the way
each platform does it.

    scripts/simulate.py --url http://localhost:8069 --channel CODE --platform generic \\
        --app-secret SECRET [--room 7301002] [--rate 50] [--duration 60]

or, for channels read from a database (what `make run SIMULATE=1` does):

    scripts/simulate.py --url http://localhost:8069 --channels-json '[{"code": ..., "platform": ...}]'

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
SKUS = [("LC-SCARF-01", "羊绒围巾 Cashmere Scarf", 31910), ("LC-CUP-02", "保温杯 Thermos Cup", 10310),
        ("LC-EAR-05", "蓝牙耳机 Wireless Earbuds", 23910), ("LC-TEA-06", "白茶饼 White Tea Cake", 20630)]


class Room:
    """Who is in the room now; every platform stream draws its fans from here."""

    def __init__(self, size, seed):
        self.rng = random.Random(seed)
        self.run = uuid.uuid4().hex[:8]
        self.pool = [f"sim-{seed}-{i}" for i in range(size)]
        self.present = {}  # fan id -> entered at

    def nickname(self, fan_id):
        return NICKS[hash(fan_id) % len(NICKS)] + fan_id[-3:]

    def step(self):
        """Fans arrive and leave; returns (entered, left[(fan, seconds)])."""
        entered, left = [], []
        for fan in self.rng.sample(self.pool, k=min(3, len(self.pool))):
            if fan not in self.present and self.rng.random() < 0.6:
                self.present[fan] = time.time()
                entered.append(fan)
        for fan in list(self.present):
            if self.rng.random() < 0.03:
                left.append((fan, int(time.time() - self.present.pop(fan)) + self.rng.randint(30, 600)))
        return entered, left

    def someone(self):
        if not self.present:
            fan = self.rng.choice(self.pool)
            self.present[fan] = time.time()
        return self.rng.choice(list(self.present))


class Stream:
    """One channel's pushes, in the platform's own format."""

    def __init__(self, channel, url, room, room_id, rng):
        self.creds = Credentials(
            id=0, code=channel["code"], platform=channel["platform"], company_id=0,
            app_key=channel.get("app_key"), app_secret=channel.get("app_secret"), token=channel.get("token"),
            encoding_aes_key=channel.get("encoding_aes_key"), message_secret=channel.get("message_secret"),
            shop_id=channel.get("shop_id"))
        self.adapter = get_adapter(channel["platform"])
        self.url = f"{url.rstrip('/')}/live_commerce/webhook/{channel['code']}"
        self.room, self.room_id, self.rng = room, room_id, rng
        self.http = requests.Session()
        self.sent = self.events = self.errors = 0
        self.n = 0

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

    # -- per platform ------------------------------------------------------
    def tick(self):
        getattr(self, "tick_" + self.creds.platform)()

    def tick_generic(self):
        entered, left = self.room.step()
        now = int(time.time())
        events = []

        def event(kind, fan, **data):
            events.append({"id": self._id(kind), "type": kind, "occurred_at": now, "room_id": self.room_id,
                           "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": fan,
                                   "nickname": self.room.nickname(fan)}, "data": data})
        for fan in entered:
            event("fan.entered", fan)
        for fan, seconds in left:
            event("fan.left", fan, watch_seconds=seconds)
        for _ in range(self.rng.randint(0, 4)):
            event("comment", self.room.someone(), content=self.rng.choice(COMMENTS))
        for _ in range(self.rng.randint(0, 3)):
            event("like", self.room.someone(), count=self.rng.randint(1, 30))
        if self.rng.random() < 0.1:
            event("gift", self.room.someone(), gift_id="rose", count=self.rng.randint(1, 5), value=100)
        if self.rng.random() < 0.08:
            event("follow", self.room.someone())
        if self.rng.random() < 0.05:
            event("share", self.room.someone())
        if self.rng.random() < 0.05:
            sku, name, price = self.rng.choice(SKUS)
            qty = self.rng.randint(1, 2)
            event("order.paid", self.room.someone(), order_ref=str(self.rng.randint(10**18, 10**19 - 1)),
                  lines=[{"sku": sku, "name": name, "quantity": qty, "unit_price": price}], total=price * qty)
        if events:
            self.events += len(events)
            self.push({"events": events})

    def tick_douyin_live(self):
        self.room.step()
        now_ms = int(time.time() * 1000)
        streams = {
            "live_comment": [{"msg_id": self._id("c"), "sec_openid": fan, "content": self.rng.choice(COMMENTS),
                              "nickname": self.room.nickname(fan), "avatar_url": "", "timestamp": now_ms}
                             for fan in (self.room.someone() for _ in range(self.rng.randint(0, 4)))],
            "live_like": [{"msg_id": self._id("l"), "sec_openid": fan, "like_num": self.rng.randint(1, 40),
                           "nickname": self.room.nickname(fan), "timestamp": now_ms}
                          for fan in (self.room.someone() for _ in range(self.rng.randint(0, 3)))],
            "live_gift": [{"msg_id": self._id("g"), "sec_openid": self.room.someone(), "sec_gift_id": "rose",
                           "gift_num": 1, "gift_value": 100, "timestamp": now_ms}] if self.rng.random() < 0.1 else [],
        }
        for msg_type, messages in streams.items():
            if messages:
                self.events += len(messages)
                self.push(messages, msg_type=msg_type, room_id=self.room_id,
                          nonce=uuid.uuid4().hex[:12], timestamp_ms=now_ms)

    def _order_id(self):
        return str(self.rng.randint(10**18, 10**19 - 1))

    def tick_douyin_shop(self):
        if self.rng.random() < 0.2:
            order_id, now = self._order_id(), int(time.time())
            data = {"p_id": order_id, "s_ids": [order_id], "shop_id": self.creds.shop_id or 88123456,
                    "order_status": 105, "pay_amount": self.rng.choice(SKUS)[2], "pay_time": now, "update_time": now}
            self.events += 2
            self.push([{"tag": "100", "msg_id": self._id("o"), "data": json.dumps(dict(data, order_status=1))},
                       {"tag": "101", "msg_id": self._id("o"), "data": json.dumps(data)}])

    def tick_kuaishou_shop(self):
        if self.rng.random() < 0.2:
            info = {"oid": int(self._order_id()[:18]), "buyerOpenId": self.room.someone(),
                    "sellerId": self.creds.shop_id or 1}
            self.events += 1
            self.push({"eventId": self._id("e"), "msgId": self._id("m"), "appKey": self.creds.app_key,
                       "event": "kwaishop_order_paySuccess", "info": json.dumps(info), "test": False,
                       "createTime": int(time.time() * 1000), "updateTime": int(time.time() * 1000)})

    def tick_wechat_channels_shop(self):
        if self.rng.random() < 0.2:
            now = int(time.time())
            self.events += 1
            message = {"ToUserName": "gh_shop", "FromUserName": self.room.someone(), "CreateTime": now,
                       "MsgType": "event", "Event": "channels_ec_order_pay",
                       "order_info": {"order_id": int(self._order_id()), "pay_time": now}}
            self.push(message, timestamp=str(now), nonce=str(self.rng.randint(10**8, 10**9)))

    def tick_tiktok_shop(self):
        if self.rng.random() < 0.2:
            self.events += 1
            self.push({"type": 1, "tts_notification_id": self._id("n"), "shop_id": self.creds.shop_id or "7495",
                       "timestamp": int(time.time()),
                       "data": {"order_id": self._order_id(), "order_status": "AWAITING_SHIPMENT",
                                "update_time": int(time.time())}})


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
            print("  " + "  ".join(f"{s.creds.code}: {s.events} events in {s.sent} pushes ({s.errors} errors)"
                                   for s in streams), flush=True)
    except KeyboardInterrupt:
        stop.set()
    return sum(s.errors for s in streams)


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
    parser.add_argument("--room", default="7301002", help="the platform room id of the stream")
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
                     "shop_id": args.shop_id}]
    else:
        parser.error("give --channel or --channels-json")
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    room = Room(args.fans, seed)
    rng = random.Random(seed)
    streams = [Stream(channel, args.url, room, args.room, rng) for channel in channels]
    print(f"Simulating room {args.room} on {', '.join(c['code'] for c in channels)} against {args.url} "
          f"({args.rate} pushes/s per channel{'' if not args.duration else f', {args.duration:.0f}s'})", flush=True)
    errors = run(streams, args.rate, args.duration)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
