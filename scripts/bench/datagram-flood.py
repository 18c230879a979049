# The throughput part's datagram flooder: sends MESSAGE as one datagram after another to
# $NOTIFY_SOCKET for MS milliseconds, as sd_notify would (blocking sends: the socket's queue limit
# paces it to what keepalive reads), prints how many it sent, then waits to be stopped.
import os, signal, socket, sys, time

message, ms = sys.argv[1].encode(), int(sys.argv[2])
address = os.environ['NOTIFY_SOCKET']
if address.startswith('@'):
    address = '\0' + address[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.connect(address)
print('start', flush=True)
end = time.monotonic() + ms / 1000
sent = 0
while time.monotonic() < end:
    for _ in range(1000):
        sock.send(message)
    sent += 1000
print(f'datagrams {sent}', flush=True)
signal.pause()
