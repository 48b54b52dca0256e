"""Which address a request comes from: the socket's, or behind trusted proxies the client
they forwarded (issue 16: document and configure how the address is taken)."""

from __future__ import annotations

import pytest
from flask import Flask

from web.addresses import client_address, trusted_proxies


def _address(app: Flask, setting: str | None, remote: str, forwarded: str | None) -> str | None:
    app.config["CQPI_TRUSTED_PROXIES"] = setting
    app.extensions.pop("cqpi.trusted_proxies", None)
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    with app.test_request_context(environ_base={"REMOTE_ADDR": remote}, headers=headers):
        return client_address()


@pytest.fixture
def app() -> Flask:
    return Flask(__name__)


def test_without_the_setting_the_header_is_not_believed(app: Flask) -> None:
    assert _address(app, None, "203.0.113.9", "10.1.1.1") == "203.0.113.9"


def test_behind_a_trusted_proxy_the_forwarded_client_counts(app: Flask) -> None:
    assert _address(app, "10.0.0.0/8", "10.0.0.2", "198.51.100.7") == "198.51.100.7"


def test_a_client_cannot_name_itself_through_the_header(app: Flask) -> None:
    """The proxy appends the address it saw: what the client wrote stays on the left."""
    chain = "1.2.3.4, 198.51.100.7, 10.0.0.3"
    assert _address(app, "10.0.0.0/8", "10.0.0.2", chain) == "198.51.100.7"


def test_a_stranger_sending_the_header_is_its_socket(app: Flask) -> None:
    assert _address(app, "10.0.0.0/8", "203.0.113.9", "198.51.100.7") == "203.0.113.9"


def test_garbage_forwarded_is_not_believed(app: Flask) -> None:
    assert _address(app, "10.0.0.2", "10.0.0.2", "<script>") == "10.0.0.2"
    assert _address(app, "10.0.0.2", "10.0.0.2", "") == "10.0.0.2"


def test_a_bad_setting_names_the_entry() -> None:
    with pytest.raises(ValueError, match="“proxy.local” 不是 IP 地址或网段"):
        trusted_proxies("10.0.0.1, proxy.local")
