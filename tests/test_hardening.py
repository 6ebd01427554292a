"""What a hostile but honest tester found (issue 14), kept as the regression suite: hostile text
is refused in linear time, and the embedded default serves a reader and a writer at once."""

import http.server
import io
import threading
import zipfile

import httpx
import pytest

from tests.conftest import LiveServer, make_settings, server_env

HOSTILE = {
    "one letter": "a" * 16_384,
    "a key and 100k digits": "a=" + "1" * 100_000,
    "pairs without values": "a " * 100_000,
    "separators": "=" * 100_000,
    "long keys": ("a" * 60 + ":") * 2_000,
    "an MLflow-like address": "http://" + "/" * 100_000,
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_is_refused_without_stalling(client, name):
    response = client.post("/v1/imports", files={"file": ("log.txt", HOSTILE[name].encode())})
    assert response.status_code == 422
    mlflow = client.post("/v1/imports/mlflow", json={"run": HOSTILE[name][:50_000]})
    assert mlflow.status_code == 422


@pytest.mark.slow
def test_the_embedded_default_reads_diagnoses_while_another_client_writes(tmp_path):
    live = LiveServer(server_env({"url": None}, tmp_path))
    try:
        with httpx.Client(base_url=live.url, timeout=60) as client:
            body = {"name": "busy", "epochs": [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.1}]}
            run_id = client.post("/v1/runs", json=body).json()["id"]
        statuses: list[int] = []
        stop = threading.Event()

        def write() -> None:
            with httpx.Client(base_url=live.url, timeout=60) as writer:
                epoch = 2
                while not stop.is_set():
                    row = {"epoch": epoch, "train_loss": 1 / epoch, "val_loss": 1.1 / epoch}
                    sent = writer.post(f"/v1/runs/{run_id}/epochs", json={"epochs": [row]})
                    statuses.append(sent.status_code)
                    epoch += 1

        writer = threading.Thread(target=write)
        writer.start()
        try:
            with httpx.Client(base_url=live.url, timeout=60) as reader:
                reads = [reader.get(f"/v1/runs/{run_id}/diagnosis").status_code for _ in range(60)]
        finally:
            stop.set()
            writer.join()
    finally:
        live.stop()
    assert reads == [200] * len(reads)
    assert statuses and set(statuses) == {200}


EPOCHS = [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.1}]


def nested(depth: int) -> dict:
    value: dict = {"a": 1}
    for _ in range(depth):
        value = {"a": value}
    return value


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


RAW_BODIES = {
    "a lone surrogate in config": (
        '{"name": "x", "config": {"a": "\\udfff"}, '
        '"epochs": [{"epoch": 1, "train_loss": 1, "val_loss": 1}]}'
    ),
    "a lone surrogate in a metric name": (
        '{"epochs": [{"epoch": 1, "train_loss": 1, "\\ud800": 1}]}'
    ),
}
JSON_BODIES = {
    "a config 300 levels deep": {"name": "x", "config": nested(300), "epochs": EPOCHS},
    "NUL in the name": {"name": "a\x00b", "epochs": EPOCHS},
    "NUL in the project": {"name": "a", "project": "p\x00", "epochs": EPOCHS},
    "NUL in a config key": {"name": "a", "config": {"k\x00": 1}, "epochs": EPOCHS},
    "NUL in a step metric": {"name": "a", "epochs": EPOCHS, "steps": {"step": [1], "l\x00": [1]}},
}


@pytest.mark.parametrize("name", sorted(RAW_BODIES) + sorted(JSON_BODIES))
def test_text_no_store_can_hold_is_a_422_and_stores_nothing(client, name):
    if name in RAW_BODIES:
        response = client.post(
            "/v1/runs", content=RAW_BODIES[name], headers={"content-type": "application/json"}
        )
    else:
        response = client.post("/v1/runs", json=JSON_BODIES[name])
    assert response.status_code == 422, response.text
    assert client.get("/v1/runs").json()["total"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "/v1/runs?offset=9223372036854775808",
        "/v1/runs?limit=9223372036854775808",
        "/v1/runs/a%00b",
        "/v1/runs/a%00b/diagnosis",
        "/v1/jobs/a%00b",
        "/v1/runs?name=%00",
        "/runs/a%00b",
        "/?page=9223372036854775808",
    ],
)
def test_out_of_range_numbers_and_nul_in_urls_are_4xx(client, url):
    assert 400 <= client.get(url).status_code < 500


def test_archives_nested_deep_are_refused_and_errors_show_no_server_paths(client):
    inner = b"epoch,train_loss,val_loss\n1,1,1\n2,0.5,0.6\n"
    for level in range(400):
        inner = zipped({"x.zip" if level else "a.csv": inner})
    deep = client.post("/v1/imports", files={"file": ("n.zip", inner)})
    assert deep.status_code == 422 and "zipped once" in deep.json()["error"]["message"]
    clash = zipped({"a": b"x", "a/b.csv": b"epoch,train_loss\n1,1\n"})
    refused = client.post("/v1/imports", files={"file": ("t.zip", clash)})
    assert refused.status_code == 422
    assert "/tmp" not in refused.text and "lossgap-import" not in refused.text


class _NotMlflow(http.server.BaseHTTPRequestHandler):
    """Some other service on the network: answers every path with a body of its own."""

    def do_GET(self) -> None:
        body = b"SECRET-ADMIN-PAGE"
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_service():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotMlflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def open_settings(backend):
    from app.main import create_app

    settings = make_settings(backend["name"], backend["tmp"], backend["url"])
    return create_app(settings.model_copy(update={"mlflow_allowed_hosts": []}))


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:9", "http://localhost:9", "http://169.254.169.254", "http://10.0.0.7"]
)
def test_internal_addresses_are_not_fetched_unless_allowed(backend, uri):
    from fastapi.testclient import TestClient

    with TestClient(open_settings(backend)) as open_client:
        body = {"run": "a" * 32, "tracking_uri": uri}
        response = open_client.post("/v1/imports/mlflow", json=body)
    assert response.status_code == 422
    assert "LOSSGAP_MLFLOW_ALLOWED_HOSTS" in response.json()["error"]["message"]


def test_an_allowed_host_that_is_not_mlflow_has_its_answer_kept_to_itself(client, other_service):
    response = client.post(
        "/v1/imports/mlflow", json={"run": "a" * 32, "tracking_uri": other_service}
    )
    assert response.status_code == 422
    assert "SECRET" not in response.text and "answered 404" in response.text
    closed = client.post(
        "/v1/imports/mlflow", json={"run": "a" * 32, "tracking_uri": "http://127.0.0.1:9"}
    )
    assert closed.status_code == 502
    assert closed.json()["error"]["message"].endswith("could not be reached.")


def zeros_zip(size: int) -> bytes:
    """A zip of one member of `size` zero bytes (about a thousandth of that packed)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("a.csv", "w", force_zip64=True) as member,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            member.write(chunk)
    return buffer.getvalue()


def test_a_decompression_bomb_is_refused_without_unpacking_it(client):
    import tracemalloc

    from app.imports import detect

    bomb = zeros_zip(256 << 20)
    assert len(bomb) < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(detect.UnknownFormat, match="decompression bomb"):
            detect.parse(bomb, "bomb.zip", None, None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 << 20
    refused = client.post("/v1/imports", files={"file": ("bomb.zip", bomb)})
    assert refused.status_code == 422 and "decompression bomb" in refused.text


def test_an_archive_of_too_many_files_is_refused(client):
    many = zipped({f"f{i}.txt": b"" for i in range(10_001)})
    refused = client.post("/v1/imports", files={"file": ("many.zip", many)})
    assert refused.status_code == 422 and "10001 files" in refused.text


class _Zeros(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        buffer[:] = b"\0" * len(buffer)
        return len(buffer)


def test_a_tar_gz_bomb_is_stopped_while_it_unpacks(client):
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("a.csv")
        info.size = 256 << 20
        tar.addfile(info, io.BufferedReader(_Zeros()))
    refused = client.post("/v1/imports", files={"file": ("bomb.tar.gz", buffer.getvalue())})
    assert refused.status_code == 422 and "decompression bomb" in refused.text


def keyed_client(backend, **extra):
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings = make_settings(backend["name"], backend["tmp"], backend["url"], api_keys=["k1"])
    return TestClient(create_app(settings.model_copy(update=extra)))


def test_keys_are_checked_before_a_body_is_read(backend):
    with keyed_client(backend) as keyed:
        malformed = keyed.post(
            "/v1/runs", content=b"{" * 1_000_000, headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 401  # not 400: the body was never parsed
        wrong = keyed.post(
            "/v1/imports",
            files={"file": ("x.csv", b"x" * 1_000_000)},
            headers={"Authorization": "Bearer nope"},
        )
        assert wrong.status_code == 401 and "not valid" in wrong.text
        assert keyed.get("/openapi.json").status_code == 200  # open unless protected
        assert keyed.get("/metrics").status_code == 200


def test_protected_docs_and_metrics_need_a_key(backend):
    with keyed_client(backend, protect_docs=True) as keyed:
        for path in ("/docs", "/redoc", "/openapi.json", "/metrics"):
            assert keyed.get(path).status_code == 401, path
            assert keyed.get(path, headers={"Authorization": "Bearer k1"}).status_code == 200
        assert keyed.get("/healthz").status_code == 200  # probes stay open


@pytest.mark.timeout(30)
def test_costly_imports_are_refused_quickly(backend):
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings = make_settings(
        backend["name"], backend["tmp"], backend["url"], max_import_bytes=8 << 20
    )
    with TestClient(create_app(settings)) as small:
        huge = small.post("/v1/imports", files={"file": ("big.log", b"x" * (9 << 20))})
        assert huge.status_code == 413 and "LOSSGAP_MAX_IMPORT_BYTES" in huge.text
        line = small.post("/v1/imports", files={"file": ("line.log", b"x" * (7 << 20))})
        assert line.status_code == 422
        wide = ",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n"
        columns = small.post(
            "/v1/imports",
            files={"file": ("wide.csv", wide.encode())},
            data={"format": "plain_csv", "mapping": '{"train_loss": "c1"}'},
        )
        assert columns.status_code == 422 and "columns" in columns.json()["error"]["message"]


@pytest.mark.slow
def test_slow_clients_are_cut_off_and_the_service_stays_up(tmp_path):
    import socket
    import time

    env = {
        **server_env({"url": None}, tmp_path),
        "LOSSGAP_HEADER_READ_SECONDS": "1",
        "LOSSGAP_BODY_READ_SECONDS": "1",
    }
    live = LiveServer(env)
    try:
        host, port = "127.0.0.1", live.port
        slow_headers = socket.create_connection((host, port))
        slow_headers.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        slow_body = socket.create_connection((host, port))
        slow_body.sendall(
            b"POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"name": '
        )
        time.sleep(3)
        slow_headers.settimeout(5)
        assert slow_headers.recv(1024) == b""  # closed by the server
        slow_body.settimeout(5)
        answer = slow_body.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert httpx.get(f"{live.url}/healthz", timeout=5).status_code == 200
        slow_headers.close()
        slow_body.close()
    finally:
        live.stop()


def test_a_write_that_waits_out_the_sqlite_lock_is_a_503_to_retry(tmp_path):
    import sqlite3

    from fastapi.testclient import TestClient

    from app.main import create_app

    settings = make_settings("sqlite", tmp_path, sqlite_busy_timeout_ms=200)
    with TestClient(create_app(settings)) as client:
        body = {"name": "locked", "epochs": [{"epoch": 1, "train_loss": 1.0}]}
        run_id = client.post("/v1/runs", json=body).json()["id"]
        holder = sqlite3.connect(tmp_path / "lossgap.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            append = {"epochs": [{"epoch": 2, "train_loss": 0.5}]}
            answer = client.post(f"/v1/runs/{run_id}/epochs", json=append)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
        assert answer.json()["error"]["code"] == "busy"
        assert client.get(f"/v1/runs/{run_id}").json()["epoch_count"] == 1
        assert client.post(f"/v1/runs/{run_id}/epochs", json=append).status_code == 200


def test_many_writers_on_sqlite_all_get_their_turn(tmp_path):
    """Writers of one process queue for the database in turn: none waits out a short busy
    timeout while others keep getting in, and every row is stored."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from app.main import create_app

    settings = make_settings("sqlite", tmp_path, sqlite_busy_timeout_ms=5_000)
    with TestClient(create_app(settings)) as client:
        runs = [
            client.post("/v1/runs", json={"epochs": [{"epoch": 1, "train_loss": 1.0}]}).json()["id"]
            for _ in range(8)
        ]

        def train(run_id: str) -> list[int]:
            statuses = []
            for epoch in range(2, 27):
                row = {"epoch": epoch, "train_loss": 1 / epoch}
                steps = {"step": [epoch * 10 + i for i in range(10)], "train_loss": [0.5] * 10}
                sent = client.post(
                    f"/v1/runs/{run_id}/epochs", json={"epochs": [row], "steps": steps}
                )
                statuses.append(sent.status_code)
            return statuses

        with ThreadPoolExecutor(len(runs)) as pool:
            statuses = [s for result in pool.map(train, runs) for s in result]
        assert statuses == [200] * 200
        for run_id in runs:
            stored = client.get(f"/v1/runs/{run_id}", params={"include_steps": "false"}).json()
            assert (stored["epoch_count"], stored["step_count"]) == (26, 250)


def test_more_concurrent_writers_than_pool_threads_do_not_stall_sqlite(tmp_path):
    """Writers beyond the thread pool's 40 threads wait their turn without holding a thread:
    the writer holding the lock still gets the threads it needs to answer and commit."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from app.main import create_app

    settings = make_settings("sqlite", tmp_path, sqlite_busy_timeout_ms=5_000)
    body = {"name": "crowd", "epochs": [{"epoch": 1, "train_loss": 1.0}]}
    with TestClient(create_app(settings)) as client:
        with ThreadPoolExecutor(80) as pool:
            statuses = list(
                pool.map(lambda _: client.post("/v1/runs", json=body).status_code, range(80))
            )
        assert statuses == [201] * 80
        assert client.get("/v1/runs").json()["total"] == 80
