"""TLS (server/tls.py): a CA, server and client certificates made here with the openssl CLI;
redis-py (ssl=True) and `redis-cli --tls` talk to a pikadb serving plaintext and TLS at once.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from tests.support.servers import PikaServer, free_port


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _issue(d: Path, name: str, ca: str, subject: str, ext: str) -> None:
    """An EC key and a certificate for it signed by ``ca`` (with extensions ``ext``)."""
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=d)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=d)
    (d / f"{name}.ext").write_text(ext)
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        f"{ca}.crt",
        "-CAkey",
        f"{ca}.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        f"{name}.ext",
        "-out",
        f"{name}.crt",
        cwd=d,
    )


def _make_ca(d: Path, name: str) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=d)
    _openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        f"{name}.key",
        "-subj",
        f"/CN={name}",
        "-days",
        "2",
        "-out",
        f"{name}.crt",
        cwd=d,
    )


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tls")
    _make_ca(d, "ca")
    _make_ca(d, "otherca")  # a CA the server does not trust
    _issue(
        d,
        "server",
        "ca",
        "/CN=localhost",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    _issue(d, "client", "ca", "/CN=client", "extendedKeyUsage=clientAuth\n")
    _issue(d, "rogue", "otherca", "/CN=rogue", "extendedKeyUsage=clientAuth\n")
    return d


def _tls_args(certs: Path, port: int, *extra: str) -> list[str]:
    return [
        "--set",
        f"tls-port={port}",
        "--set",
        f"tls-cert-file={certs / 'server.crt'}",
        "--set",
        f"tls-key-file={certs / 'server.key'}",
        "--set",
        f"tls-ca-cert-file={certs / 'ca.crt'}",
        *extra,
    ]


def _client(certs: Path, port: int, cert: str | None = "client", **kw: object) -> redis.Redis:
    if cert is not None:
        kw.update(ssl_certfile=str(certs / f"{cert}.crt"), ssl_keyfile=str(certs / f"{cert}.key"))
    return redis.Redis(
        port=port,
        ssl=True,
        ssl_ca_certs=str(certs / "ca.crt"),
        socket_timeout=10,
        retry=Retry(NoBackoff(), 0),  # a refused handshake is an answer, not a glitch
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def tls_srv(certs: Path) -> Iterator[tuple[PikaServer, int]]:
    """One server for the module (tests restore what they CONFIG SET)."""
    tls_port = free_port()
    srv = PikaServer(args=_tls_args(certs, tls_port)).start()
    yield srv, tls_port
    srv.cleanup()


def _refused(c: redis.Redis) -> bool:
    try:
        c.ping()
    except (redis.ConnectionError, ssl.SSLError, OSError):
        return True
    finally:
        c.close()
    return False


def test_plaintext_and_tls_ports_at_once(certs: Path, tls_srv: tuple[PikaServer, int]) -> None:
    srv, tls_port = tls_srv
    plain = srv.client()
    plain.flushall()
    secure = _client(certs, tls_port)
    assert secure.ping()
    assert secure.set("k", "over tls")
    assert plain.get("k") == b"over tls"
    plain.set("k2", b"\x00\xffbinary")
    assert secure.get("k2") == b"\x00\xffbinary"
    # big values and pipelines cross TLS records intact
    big = b"x" * (3 << 20)
    secure.set("big", big)
    assert secure.get("big") == big
    pipe = secure.pipeline(transaction=False)
    for _i in range(1000):
        pipe.incr("n")
    assert pipe.execute()[-1] == 1000
    assert plain.config_get("tls-port") == {"tls-port": str(tls_port)}
    assert plain.config_get("tls-auth-clients") == {"tls-auth-clients": "yes"}
    assert "tls-key-file-pass" in plain.config_get("tls-*")
    # the TLS client shows in CLIENT LIST beside the plaintext one
    assert {c["id"] for c in plain.client_list()} >= {
        str(plain.client_id()),
        str(secure.client_id()),
    }
    secure.close()
    plain.close()


def test_redis_cli_over_tls(certs: Path, tls_srv: tuple[PikaServer, int]) -> None:
    _, tls_port = tls_srv
    base = [
        "redis-cli",
        "--tls",
        "--cacert",
        str(certs / "ca.crt"),
        "--cert",
        str(certs / "client.crt"),
        "--key",
        str(certs / "client.key"),
        "-p",
        str(tls_port),
    ]
    out = subprocess.run([*base, "SET", "cli", "yes"], capture_output=True, timeout=30)
    assert out.stdout.strip() == b"OK", out
    out = subprocess.run([*base, "GET", "cli"], capture_output=True, timeout=30)
    assert out.stdout.strip() == b"yes", out
    # without a client certificate the handshake is refused (tls-auth-clients yes)
    no_cert = [a for a in base if "client." not in a and a not in ("--cert", "--key")]
    out = subprocess.run([*no_cert, "PING"], capture_output=True, timeout=30)
    assert b"PONG" not in out.stdout


def test_auth_clients_modes(certs: Path, tls_srv: tuple[PikaServer, int]) -> None:
    srv, tls_port = tls_srv
    # yes: a certificate from our CA is required
    assert _refused(_client(certs, tls_port, cert=None))
    assert _refused(_client(certs, tls_port, cert="rogue"))
    assert _client(certs, tls_port).ping()
    admin = srv.client()
    # optional: none is fine, but one that is sent must verify
    admin.config_set("tls-auth-clients", "optional")
    assert _client(certs, tls_port, cert=None).ping()
    assert _refused(_client(certs, tls_port, cert="rogue"))
    # no: certificates are not asked for
    admin.config_set("tls-auth-clients", "no")
    assert _client(certs, tls_port, cert=None).ping()
    assert _client(certs, tls_port, cert="rogue").ping()
    admin.config_set("tls-auth-clients", "yes")
    assert _refused(_client(certs, tls_port, cert=None))
    admin.close()


def test_tls_protocols(certs: Path, tls_srv: tuple[PikaServer, int]) -> None:
    srv, tls_port = tls_srv
    admin = srv.client()
    admin.config_set("tls-protocols", "TLSv1.3")

    def version(max_version: ssl.TLSVersion) -> str | None:
        ctx = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        ctx.load_cert_chain(str(certs / "client.crt"), str(certs / "client.key"))
        ctx.maximum_version = max_version
        try:
            with (
                socket.create_connection(("127.0.0.1", tls_port), timeout=10) as raw,
                ctx.wrap_socket(raw, server_hostname="localhost") as s,
            ):
                s.sendall(b"PING\r\n")
                assert s.recv(100) == b"+PONG\r\n"
                return s.version()
        except (ssl.SSLError, OSError):
            return None

    assert version(ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    assert version(ssl.TLSVersion.TLSv1_2) is None
    admin.config_set("tls-protocols", "TLSv1.2")
    assert version(ssl.TLSVersion.TLSv1_3) == "TLSv1.2"
    with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
        admin.config_set("tls-protocols", "SSLv2")
    assert admin.config_get("tls-protocols") == {"tls-protocols": "TLSv1.2"}
    admin.config_set("tls-protocols", "")
    assert version(ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    assert version(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    admin.close()


def test_config_set_reloads_and_refuses(certs: Path, tls_srv: tuple[PikaServer, int]) -> None:
    srv, tls_port = tls_srv
    admin = srv.client(decode_responses=True)
    with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
        admin.config_set("tls-cert-file", str(certs / "missing.crt"))
    assert admin.config_get("tls-cert-file")["tls-cert-file"].endswith("server.crt")
    admin.config_set("tls-cert-file", str(certs / "server.crt"))  # unchanged: accepted
    assert _client(certs, tls_port).ping()  # the old context still serves
    # a new port: the old one stops listening, the new one serves
    new_port = free_port()
    admin.config_set("tls-port", str(new_port))
    assert _client(certs, new_port).ping()
    assert _refused(_client(certs, tls_port))
    admin.config_set("tls-port", "0")
    assert _refused(_client(certs, new_port))
    assert admin.ping()
    admin.config_set("tls-port", str(tls_port))  # back, for the tests after this one
    assert _client(certs, tls_port).ping()
    admin.close()


def test_bad_tls_config_refuses_to_start(
    certs: Path, make_server: Callable[..., PikaServer]
) -> None:
    srv = make_server(
        "--set",
        f"tls-port={free_port()}",
        "--set",
        f"tls-cert-file={certs / 'nope.crt'}",
        "--set",
        f"tls-key-file={certs / 'server.key'}",
        start=False,
    )
    with pytest.raises(RuntimeError, match="exited"):
        srv.start()
    assert "Failed to configure TLS" in srv.log()
