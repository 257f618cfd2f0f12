"""A small authenticated message hub on the driver, for tasks and workers to talk to.

Workers (a Spark task training a candidate, a long-lived Horovod worker) open
one connection to the driver (``multiprocessing.connection``: length-prefixed
messages, HMAC handshake with a per-executor random key) and exchange small
tuples: progress and results up, tasks and cancel flags down. They are pickled
here with cloudpickle rather than by the connection, whose ForkingPickler would
turn torch tensors into shared-memory handles. A connection that drops (EOF)
tells the driver at once that the process on the other end is gone.

No training data crosses it: tasks carry lazy data references, results carry
model state.
"""
from __future__ import annotations

import logging
import os
import pickle
import socket
import threading
from multiprocessing.connection import Client, Connection, Listener
from typing import Any, Callable, Dict, Optional, Tuple

log = logging.getLogger(__name__)

Address = Tuple[str, int]


class Hub:
    """Driver side: accepts connections, calls ``on_message(cid, msg)`` / ``on_close(cid)``
    from one reader thread per connection."""

    def __init__(self, on_message: Callable[[int, Any], None], on_close: Callable[[int], None] = lambda cid: None,
                 advertise_host: Optional[str] = None, bind_host: str = "0.0.0.0"):
        self.authkey = os.urandom(24)
        self._listener = Listener((bind_host, 0), authkey=self.authkey)
        port = self._listener.address[1]
        self.address: Address = (advertise_host or _default_host(), port)
        self._on_message = on_message
        self._on_close = on_close
        self._conns: Dict[int, Connection] = {}
        self._locks: Dict[int, threading.Lock] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._closed = False
        self._accept_thread = threading.Thread(target=self._accept_loop, name="adanet-hub-accept", daemon=True)
        self._accept_thread.start()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except Exception as exc:  # closed listener, or a client that failed the handshake
                if self._closed:
                    return
                log.debug("hub: dropped a connection in its handshake: %s", exc)
                continue
            with self._lock:
                cid = self._next
                self._next += 1
                self._conns[cid] = conn
                self._locks[cid] = threading.Lock()
            threading.Thread(target=self._read_loop, args=(cid, conn), name=f"adanet-hub-conn{cid}",
                             daemon=True).start()

    def _read_loop(self, cid: int, conn: Connection) -> None:
        try:
            while True:
                try:
                    msg = pickle.loads(conn.recv_bytes())
                except (EOFError, OSError, TypeError):  # TypeError: close() took the handle mid-read
                    break
                try:
                    self._on_message(cid, msg)
                except Exception:  # a bad message must not cut the worker off
                    log.exception("hub: handling a message from connection %d", cid)
        finally:
            with self._lock:
                self._conns.pop(cid, None)
                self._locks.pop(cid, None)
            try:
                conn.close()
            except Exception:  # already closed by close(): nothing left to release
                pass
            if not self._closed:
                try:
                    self._on_close(cid)
                except Exception:
                    log.exception("hub: handling the close of connection %d", cid)

    def send(self, cid: int, msg: Any) -> bool:
        """Send to one connection (a message, or one already pickled by :func:`dumps`);
        False when it is gone."""
        with self._lock:
            conn = self._conns.get(cid)
            lock = self._locks.get(cid)
        if conn is None:
            return False
        data = msg if isinstance(msg, bytes) else dumps(msg)
        try:
            with lock:
                conn.send_bytes(data)
            return True
        except (OSError, EOFError, ValueError):
            return False

    def close(self) -> None:
        self._closed = True
        try:
            self._listener.close()
        except Exception:  # closing twice: the hub is closed either way
            pass
        # Wake accept() so its thread ends.
        try:
            socket.create_connection(("127.0.0.1", self.address[1]), timeout=0.5).close()
        except OSError:
            pass
        with self._lock:
            conns = list(self._conns.values())
            self._conns.clear()
        for conn in conns:
            _shut(conn)


class Link:
    """Worker side: one connection to the hub; ``send`` is thread-safe."""

    def __init__(self, address: Address, authkey: bytes, timeout_s: float = 10.0):
        self._conn = _connect(tuple(address), authkey, timeout_s)
        self._lock = threading.Lock()

    def send(self, msg: Any) -> bool:
        try:
            data = dumps(msg)
            with self._lock:
                self._conn.send_bytes(data)
            return True
        except (OSError, EOFError, ValueError):
            return False

    def recv(self) -> Any:
        return pickle.loads(self._conn.recv_bytes())

    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:  # the hub went first: the link is closed either way
            pass


def _shut(conn: Connection) -> None:
    """End a connection for both sides. Closing the file descriptor alone does not while
    a reader thread is blocked on it: the peer would wait for a message forever."""
    try:
        sock = socket.fromfd(conn.fileno(), socket.AF_INET, socket.SOCK_STREAM)  # a duplicate fd
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()
    except OSError:  # already closed by the other side
        pass
    try:
        conn.close()
    except OSError:
        pass


def _connect(address: Address, authkey: bytes, timeout_s: float) -> Connection:
    # Probe first with a bounded connect, so an unreachable driver fails fast
    # (Client itself connects without a timeout).
    socket.create_connection(address, timeout=timeout_s).close()
    return Client(address, authkey=authkey)


def dumps(msg: Any) -> bytes:
    """Pickle a message (functions by value where cloudpickle must)."""
    import cloudpickle
    return cloudpickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)


def _default_host() -> str:
    host = socket.gethostname()
    try:
        socket.getaddrinfo(host, None)
        return host
    except OSError:
        return "127.0.0.1"


def progress_info(fraction: float, valid_loss: Optional[float] = None) -> dict:
    """The body of a ``progress`` message: the fraction done, and the validation loss at a check."""
    info = {"fraction": float(fraction)}
    if valid_loss is not None:
        info["valid_loss"] = float(valid_loss)
    return info
