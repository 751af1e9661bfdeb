"""The local endpoint answers a container's request, addressed to the host's container-facing name.

A container reaches the endpoint as http://host.containers.internal:<port> (Podman) or
http://host.docker.internal:<port> (Docker); the request's Host header carries that name. moto reads a
dotted host as a virtual-hosted bucket ("host") unless the URL is declared as an S3 custom endpoint, which
the endpoint does itself: the README's `sam local invoke` recipe has nothing else to set it.
"""

from __future__ import annotations

import http.client

import pytest

from retail_platform.local import endpoint


def list_bucket(port: int, host_header: str, bucket: str) -> tuple[int, str]:
    """GET /<bucket>?list-type=2 sent to loopback with the Host header a container would send."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", f"/{bucket}?list-type=2", headers={"Host": host_header})
        reply = conn.getresponse()
        return reply.status, reply.read().decode()
    finally:
        conn.close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(endpoint.CUSTOM_ENDPOINTS_VAR, raising=False)
    port = endpoint.free_port()
    moto = endpoint.start_server("127.0.0.1", port)
    try:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="local-artifacts")
        yield port
    finally:
        moto.stop()


@pytest.mark.parametrize("alias", endpoint.CONTAINER_HOST_ALIASES)
def test_container_facing_name_reaches_the_bucket_in_the_path(server: int, alias: str) -> None:
    status, body = list_bucket(server, f"{alias}:{server}", "local-artifacts")
    assert status == 200, body
    assert "<Name>local-artifacts</Name>" in body


def test_without_the_declaration_the_host_name_is_read_as_a_bucket(server: int, monkeypatch) -> None:
    """The failure the declaration prevents (the README recipe's NoSuchBucket), reproduced on purpose."""
    monkeypatch.delenv(endpoint.CUSTOM_ENDPOINTS_VAR)
    status, body = list_bucket(server, f"host.containers.internal:{server}", "local-artifacts")
    assert status == 404 and "NoSuchBucket" in body and "<BucketName>host</BucketName>" in body
