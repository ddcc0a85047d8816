#!/usr/bin/env python3
"""Holds many SMTP sessions in TLS against a server, to see what a STARTTLS session costs it.

  tls_sessions.py HOST PORT N HOLD_SECONDS

Each session reads the 220, says EHLO, STARTTLS, then EHLO again inside TLS (the certificate is not checked), and
stays silent; one after another, so the time printed is N handshakes in a row. With all N held it sleeps
HOLD_SECONDS (measure the server meanwhile, e.g. `jcmd PID GC.run; jcmd PID GC.heap_info`), then closes them.
A STARTTLS refused (Tern's 454 beyond tls-max-sessions) stops the run with that reply. Every socket operation
times out after 30 s.
"""
import socket
import ssl
import sys
import time


def reply(f):
    while True:
        line = f.readline()
        if not line or line[3:4] != b'-':
            return line


def main():
    host, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    held = []
    started = time.time()
    try:
        for _ in range(n):
            s = socket.create_connection((host, port), timeout=30)
            f = s.makefile('rb')
            reply(f)
            s.sendall(b'EHLO tls-sessions.example\r\n')
            reply(f)
            s.sendall(b'STARTTLS\r\n')
            r = reply(f)
            if not r.startswith(b'220'):
                sys.exit(f"STARTTLS refused after {len(held)} sessions: {r.decode(errors='replace').strip()}")
            t = ctx.wrap_socket(s, server_hostname=host)
            t.sendall(b'EHLO tls-sessions.example\r\n')
            reply(t.makefile('rb'))
            held.append(t)
        print(f"{n} sessions in TLS after {time.time() - started:.1f} s; holding {hold:.0f} s", flush=True)
        time.sleep(hold)
    finally:
        for t in held:
            t.close()
    print("closed", flush=True)


if __name__ == '__main__':
    main()
