"""A small HTTP server to run under keepalive's single executable (examples/docker/Dockerfile.python).

It speaks systemd's notify protocol on $NOTIFY_SOCKET, as many services do: READY=1 once it
listens, then WATCHDOG=1 from its serving loop. GET /hang blocks that loop, so the beats stop and
keepalive restarts it; GET /crash ends it with SIGSEGV.
"""
import os
import signal
import socket
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def notify(message: str) -> None:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode(), address)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/hang":
            self.reply("hanging\n")
            time.sleep(3600)
        elif self.path == "/crash":
            self.reply("crashing\n")
            os.kill(os.getpid(), signal.SIGSEGV)
        else:
            self.reply(f"hello from pid {os.getpid()}, restart {os.environ.get('KEEPALIVE_RESTARTS')}\n")

    def reply(self, text: str) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(text.encode())
        self.wfile.flush()


server = HTTPServer(("", 8080), Handler)
server.timeout = 1  # handle_request returns at least every second, to beat
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
print("listening on :8080", flush=True)
notify("READY=1")
while True:
    server.handle_request()
    notify("WATCHDOG=1")
