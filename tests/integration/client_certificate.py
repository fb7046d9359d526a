"""Self-signed client certificates, as an app registration holds them for certificate sign-in."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Certificate:
    """A client certificate: the public part the app registration holds, the app's private
    key, and the SHA-1 thumbprint MSAL names it by."""

    key_pem: str
    cert_pem: str
    sha1: str
    key: rsa.RSAPrivateKey
    cert: x509.Certificate


def new_certificate(common_name: str = "member-plugins test") -> Certificate:
    """A fresh RSA key and a self-signed certificate for it, valid for a day."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return Certificate(key_pem, cert_pem, cert.fingerprint(hashes.SHA1()).hex(), key, cert)
