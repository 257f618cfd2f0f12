"""The driver's hub and a worker's link: round trip, authentication, close detection."""
from __future__ import annotations

import queue
from multiprocessing import AuthenticationError

import pytest
import torch

from adanet_spark.execution.channel import Hub, Link, dumps


@pytest.fixture
def hub():
    got, closed = queue.Queue(), queue.Queue()
    h = Hub(lambda cid, msg: got.put((cid, msg)), closed.put, advertise_host="127.0.0.1")
    h.got, h.closed = got, closed
    yield h
    h.close()


def test_round_trip_both_ways(hub):
    link = Link(hub.address, hub.authkey, timeout_s=5.0)
    link.send(("progress", "1:0:1", {"w": torch.ones(3)}))
    cid, (kind, key, info) = hub.got.get(timeout=5)
    assert (kind, key) == ("progress", "1:0:1") and torch.equal(info["w"], torch.ones(3))
    assert hub.send(cid, ("cancel", "1:0:1", {}))
    assert link.recv() == ("cancel", "1:0:1", {})
    assert hub.send(cid, dumps(("task", "k", {"n": 1})))  # pickled once, sent as is
    assert link.recv() == ("task", "k", {"n": 1})
    link.close()


def test_wrong_key_is_rejected_and_the_hub_keeps_serving(hub):
    with pytest.raises(AuthenticationError):
        Link(hub.address, b"not the key" * 2, timeout_s=5.0)
    good = Link(hub.address, hub.authkey, timeout_s=5.0)
    good.send("hello")
    assert hub.got.get(timeout=5)[1] == "hello"  # the rejected client never got through
    assert hub.got.empty()
    good.close()


def test_a_closed_link_is_noticed_at_once(hub):
    link = Link(hub.address, hub.authkey, timeout_s=5.0)
    link.send("hello")
    cid, _ = hub.got.get(timeout=5)
    link.close()
    assert hub.closed.get(timeout=5) == cid
    assert not hub.send(cid, "anyone?")


def test_closing_the_hub_ends_its_links(hub):
    link = Link(hub.address, hub.authkey, timeout_s=5.0)
    link.send("hello")
    hub.got.get(timeout=5)
    hub.close()
    with pytest.raises((EOFError, OSError)):
        link.recv()
    assert hub.closed.empty()  # a hub closed on purpose does not report its connections lost


def test_unreachable_hub_fails_fast():
    probe = Hub(lambda cid, msg: None, advertise_host="127.0.0.1")
    address = probe.address
    probe.close()
    with pytest.raises(OSError):
        Link(address, b"k" * 24, timeout_s=1.0)
