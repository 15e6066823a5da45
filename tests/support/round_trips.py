"""Counting the round trips a client makes to PostgreSQL: a TCP relay between them that
reads the client's side of the protocol and counts the messages after which the client
waits for the server: Sync (`S`, the end of a statement, or of a pipeline's batch),
Flush (`H`, a pipeline asking for the results so far) and simple Query (`Q`); several
of these in a row, with no statement between them, are one wait.

A burst of statements sent without waiting (psycopg's pipeline mode) is one round trip,
however many statements it holds. Used by the append-path test and
`bench/bench_postgres.py --profile`.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from urllib.parse import urlsplit, urlunsplit

_WAITS = {ord("S"), ord("H"), ord("Q")}
_NEGOTIATIONS = {80877103, 80877104}
"""SSLRequest and GSSENCRequest: untyped messages a startup message may follow."""


class _ClientStream:
    """Splits what the client sends into protocol messages and counts the waits."""

    def __init__(self) -> None:
        self.buffer = b""
        self.started = False
        self.waits = 0
        self.waiting = False
        """The last message asked for results: a Sync right after a Flush (psycopg sends
        both at a pipeline's end) is the same wait."""

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return
                length, code = struct.unpack("!ii", self.buffer[:8])
                if len(self.buffer) < length:
                    return
                self.buffer = self.buffer[length:]
                self.started = code not in _NEGOTIATIONS
                continue
            if len(self.buffer) < 5:
                return
            kind = self.buffer[0]
            (length,) = struct.unpack("!i", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                return
            self.buffer = self.buffer[1 + length :]
            if kind in _WAITS and not self.waiting:
                self.waits += 1
            self.waiting = kind in _WAITS


class RoundTripRelay:
    """Relays a local port to a PostgreSQL server; `count` is the round trips so far."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._streams: list[_ClientStream] = []
        self._offset = 0
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def count(self) -> int:
        """Round trips of every relayed connection since the last `reset`."""
        return sum(stream.waits for stream in self._streams) - self._offset

    def reset(self) -> None:
        """Count from zero again."""
        self._offset += self.count

    def url(self, url: str) -> str:
        """`url` pointed at this relay instead of the server."""
        parts = urlsplit(url)
        user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{self.port}"))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            stream = _ClientStream()
            self._streams.append(stream)
            threading.Thread(target=self._pump, args=(client, server, stream), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, None), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, stream: _ClientStream | None) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if stream is not None:
                    stream.feed(data)
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        """Stop relaying and close every connection."""
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
