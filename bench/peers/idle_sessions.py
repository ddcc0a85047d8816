#!/usr/bin/env python3
"""Opens many mostly-idle SMTP sessions against a server, then asks: how much memory do they cost, and does a new
session still get its 220 greeting fast?

  idle_sessions.py --target 127.0.0.1:PORT --connections N [--pid SERVER_PID] [--greet-timeout S]

Each idle session connects, reads the 220 and sends one EHLO (so the server has a real session, not just a socket),
then stays silent. With all of them held it measures the server's memory (Pss summed over its processes,
via procstats.py: shared pages are split, not counted once per process) and the time of PROBES fresh sessions to their 220, one after another. Prints JSON.
Every wait is bounded: each session by --greet-timeout, the opening phase by --open-deadline.
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procstats  # noqa: E402

PROBES = 5


async def read_reply(reader, timeout):
    """Reads one (possibly multi-line) SMTP reply; returns its code."""
    deadline = time.monotonic() + timeout
    for _ in range(100):
        line = await asyncio.wait_for(reader.readline(), max(0.001, deadline - time.monotonic()))
        if not line:
            raise ConnectionError("closed")
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3])
    raise ConnectionError("reply too long")


async def open_idle(host, port, deadline, held):
    timeout = deadline - time.monotonic()
    if timeout <= 0:
        return "not_tried"
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return "connect_failed"
    held.append(writer)
    try:
        if await read_reply(reader, timeout) != 220:
            return "no_220"
        writer.write(b"EHLO idle.tern.test\r\n")
        await writer.drain()
        code = await read_reply(reader, timeout)
        return "greeted" if code == 250 else "no_250"
    except (OSError, ConnectionError, ValueError, asyncio.TimeoutError):
        return "no_220"


async def probe(host, port, timeout):
    """Milliseconds from connect to the 220 of a fresh session; None if it never came."""
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        code = await read_reply(reader, timeout)
        elapsed = (time.monotonic() - start) * 1000
        writer.write(b"QUIT\r\n")
        await writer.drain()
        return elapsed if code == 220 else None
    except (OSError, ConnectionError, ValueError, asyncio.TimeoutError):
        return None
    finally:
        writer.close()


async def run(args):
    host, port = args.target.rsplit(":", 1)
    port = int(port)
    pss_before = procstats.pss_kib(args.pid) if args.pid else 0
    held = []
    started = time.monotonic()
    # Open in waves so the listen backlog is not flooded. A server that stops greeting (a process limit) would make
    # every wave wait its full timeout, so one deadline bounds the whole opening phase.
    deadline = started + args.open_deadline
    outcomes = {}
    wave = 500
    for first in range(0, args.connections, wave):
        count = min(wave, args.connections - first)
        session_deadline = min(deadline, time.monotonic() + args.greet_timeout)
        results = await asyncio.gather(*(open_idle(host, port, session_deadline, held) for _ in range(count)))
        for r in results:
            outcomes[r] = outcomes.get(r, 0) + 1
    open_seconds = time.monotonic() - started
    await asyncio.sleep(1)  # let the server settle before measuring it
    pss_held = procstats.pss_kib(args.pid) if args.pid else 0
    probes = [await probe(host, port, args.greet_timeout) for _ in range(PROBES)]
    answered = [p for p in probes if p is not None]
    for w in held:
        w.close()
    greeted = outcomes.get("greeted", 0)
    return {
        "connections": args.connections,
        "greeted": greeted,
        "outcomes": outcomes,
        "open_seconds": round(open_seconds, 2),
        "pss_before_kib": pss_before,
        "pss_held_kib": pss_held,
        "pss_per_session_kib": round((pss_held - pss_before) / greeted, 1) if greeted else None,
        "probe_220_ms": [round(p, 2) if p is not None else None for p in probes],
        "probe_220_median_ms": round(statistics.median(answered), 2) if answered else None,
        "probes_unanswered": PROBES - len(answered),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", required=True)
    p.add_argument("--connections", type=int, required=True)
    p.add_argument("--pid", type=int, default=0, help="server process whose memory to read")
    p.add_argument("--greet-timeout", type=float, default=10.0, help="seconds a session may wait for 220 and 250")
    p.add_argument("--open-deadline", type=float, default=60.0, help="seconds allowed for opening all sessions")
    args = p.parse_args()
    if not 1 <= args.connections <= 60_000:
        p.error("--connections must be 1..60000")
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
