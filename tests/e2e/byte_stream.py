#!/usr/bin/env python3
"""A known byte stream over TCP, to check that a tunnel delivered every byte it accepted.

  byte_stream.py receive --listen ADDR:PORT --timeout S
      accepts one connection, reads to its end and prints
      "byte_stream: received bytes=N sha256=HEX seconds=T", and one "progress" line a second.
  byte_stream.py send --to ADDR:PORT --bytes N --rate BYTES_PER_S --seed K --timeout S
      connects (retrying for up to 5 s), sends N pseudo-random bytes (seeded: the same on every run)
      at about --rate, closes, and prints "byte_stream: sent bytes=N sha256=HEX seconds=T".

Both end with exit status 1 on a timeout or an error (after printing what they counted).
"""
import argparse
import hashlib
import random
import signal
import socket
import sys
import time

CHUNK = 16384


def endpoint(text):
    address, _, port = text.rpartition(":")
    return address, int(port)


def receive(args):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(endpoint(args.listen))
    listener.listen(1)
    listener.settimeout(args.timeout)
    start = time.monotonic()
    digest = hashlib.sha256()
    total = 0
    try:
        conn, _ = listener.accept()
        conn.settimeout(1.0)
        next_progress = time.monotonic() + 1.0
        while True:
            now = time.monotonic()
            if now - start > args.timeout:
                raise TimeoutError("no end of stream within %.0f s" % args.timeout)
            if now >= next_progress:
                print("progress t=%.1f bytes=%d" % (now - start, total), flush=True)
                next_progress += 1.0
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            digest.update(data)
            total += len(data)
        status = 0
    except OSError as e:
        print("byte_stream: %s" % e, flush=True)
        status = 1
    print("byte_stream: received bytes=%d sha256=%s seconds=%.1f" % (total, digest.hexdigest(),
                                                                      time.monotonic() - start), flush=True)
    return status


def send(args):
    source = random.Random(args.seed)
    digest = hashlib.sha256()
    start = time.monotonic()
    total = 0
    status = 0
    try:
        while True:
            try:
                conn = socket.create_connection(endpoint(args.to), timeout=2.0)
                break
            except OSError:
                if time.monotonic() - start > 5.0:
                    raise
                time.sleep(0.2)
        conn.settimeout(args.timeout)
        while total < args.bytes:
            if time.monotonic() - start > args.timeout:
                raise TimeoutError("not all sent within %.0f s" % args.timeout)
            # Pace: the bytes sent so far never run ahead of the clock.
            ahead = total / args.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(min(ahead, 0.1))
                continue
            chunk = source.randbytes(min(CHUNK, args.bytes - total))
            conn.sendall(chunk)
            digest.update(chunk)
            total += len(chunk)
        conn.shutdown(socket.SHUT_WR)
        # Wait for the receiver to close: every byte was taken off the wire by then.
        conn.settimeout(max(1.0, args.timeout - (time.monotonic() - start)))
        while conn.recv(4096):
            pass
        conn.close()
    except OSError as e:
        print("byte_stream: %s" % e, flush=True)
        status = 1
    print("byte_stream: sent bytes=%d sha256=%s seconds=%.1f" % (total, digest.hexdigest(), time.monotonic() - start),
          flush=True)
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("receive")
    r.add_argument("--listen", required=True)
    r.add_argument("--timeout", type=float, default=60.0)
    s = sub.add_parser("send")
    s.add_argument("--to", required=True)
    s.add_argument("--bytes", type=int, required=True)
    s.add_argument("--rate", type=float, default=1e9, help="bytes a second")
    s.add_argument("--seed", type=int, default=14)
    s.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()
    if not 0 < args.timeout <= 600:
        p.error("--timeout: 0 to 600 s")
    # The hard limit, whatever a socket call does.
    signal.signal(signal.SIGALRM, lambda signum, frame: sys.exit("byte_stream: hard time limit"))
    signal.alarm(int(args.timeout) + 10)
    sys.exit(receive(args) if args.mode == "receive" else send(args))


if __name__ == "__main__":
    main()
