"""A TCP relay in front of a real broker that can cut the first connection mid-stream.

It forwards the first `cut_after` bytes a client sends, then closes both sides at once:
whatever the client wrote after that (possibly half a packet) never reaches the broker,
and acknowledgements still on their way back are lost. Later connections are relayed
whole. Every byte each client sent is kept, per connection, for inspection.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttingProxy:
    def __init__(self, broker_port: int, cut_after: int, port: int = 0) -> None:
        self.broker_port = broker_port
        self.cut_after = cut_after
        self.sent: list[bytearray] = []  # bytes each connection's client sent, as relayed
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, protocol: str) -> str:
        return f"mqtt://127.0.0.1:{self.port}?protocol={protocol}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            broker = socket.create_connection(("127.0.0.1", self.broker_port))
            with self._lock:
                limit = self.cut_after if not self.sent else None
                record = bytearray()
                self.sent.append(record)
                self._sockets += [client, broker]
            pair = (client, broker)
            threading.Thread(target=self._up, args=(pair, record, limit), daemon=True).start()
            threading.Thread(target=self._down, args=(pair,), daemon=True).start()

    def _up(
        self, pair: tuple[socket.socket, socket.socket], record: bytearray, limit: int | None
    ) -> None:
        client, broker = pair
        with contextlib.suppress(OSError):
            while chunk := client.recv(65536):
                if limit is not None and len(record) + len(chunk) >= limit:
                    part = chunk[: limit - len(record)]
                    broker.sendall(part)
                    record += part
                    break
                broker.sendall(chunk)
                record += chunk
        _close(pair)

    def _down(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, broker = pair
        with contextlib.suppress(OSError):
            while chunk := broker.recv(65536):
                client.sendall(chunk)
        _close(pair)

    def close(self) -> None:
        # A shutdown wakes the thread blocked in accept(); a bare close would leave it
        # accepting on the still-open listening socket.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            _close(tuple(self._sockets))


def _close(sockets: tuple[socket.socket, ...]) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
