"""https webhooks: the connection goes to the checked address while TLS checks the URL's name,
against a real TLS receiver on 127.0.0.1 with a certificate made here."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from generation.webhooks import sender
from generation.webhooks import services as webhook_services
from generation.webhooks.models import DeliveryStatus, WebhookDelivery
from generation.webhooks.tasks import deliver_webhook


def make_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TLSReceiver:
    def __init__(self, cert: Path, key: Path) -> None:
        self.requests: list[tuple[str | None, str]] = []  # (SNI name, Host header)
        self.sni: list[str | None] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.sni_callback = lambda sock, name, ctx: self.sni.append(name)  # type: ignore[assignment,misc,return-value]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((outer.sni[-1] if outer.sni else None, self.headers["Host"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[TLSReceiver, Path]]:
    cert, key = make_certificate(tmp_path, "localhost")
    receiver = TLSReceiver(cert, key)
    try:
        yield receiver, cert
    finally:
        receiver.close()


LOOPBACK = [ipaddress.ip_address("127.0.0.1")]


def test_tls_checks_the_urls_name_on_the_checked_address(tls_receiver):
    receiver, cert = tls_receiver
    trusting = ssl.create_default_context(cafile=str(cert))
    target = sender.parse_url(f"https://localhost:{receiver.port}/h", require_https=True)

    result = sender.post(target, LOOPBACK, headers={}, body=b"{}", timeout=5, tls_context=trusting)

    assert (result.status_code, result.error, result.address) == (200, "", "127.0.0.1")
    assert receiver.requests == [("localhost", f"localhost:{receiver.port}")]


def test_a_certificate_for_another_name_is_refused(tls_receiver):
    receiver, cert = tls_receiver
    trusting = ssl.create_default_context(cafile=str(cert))
    # The same server and address, reached under a name its certificate does not carry.
    target = sender.parse_url(f"https://hooks.example.test:{receiver.port}/", require_https=True)

    result = sender.post(target, LOOPBACK, headers={}, body=b"{}", timeout=5, tls_context=trusting)

    assert result.status_code is None
    assert result.error.startswith("TLS failed: CERTIFICATE_VERIFY_FAILED")
    assert receiver.requests == []


@pytest.mark.django_db
def test_delivery_refuses_an_untrusted_certificate(tls_receiver, user, settings):
    receiver, _ = tls_receiver
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    webhook_services.webhook_endpoint_create(
        owner=user, url=f"https://localhost:{receiver.port}/hooks"
    )
    event = webhook_services.webhook_emit(
        owner_id=user.pk, event_type="generation.queued", data={"job": {}}
    )
    delivery = WebhookDelivery.objects.get(event=event)

    assert deliver_webhook(delivery.pk) == DeliveryStatus.FAILED

    attempt = delivery.attempts.get()
    assert attempt.error.startswith("TLS failed: CERTIFICATE_VERIFY_FAILED")
    assert receiver.requests == []
