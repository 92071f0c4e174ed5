"""A webhook receiver on loopback for the tests: it checks each signature and answers as scripted."""

import threading
import time
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from notifications.webhooks.signing import SIGNATURE_HEADER, verify_signature

OK = 200
TIMEOUT = "timeout"  # answer only after the sender's time limit


@dataclass
class ReceivedRequest:
    path: str
    headers: Message
    body: bytes
    signature_valid: bool

    @property
    def delivery_id(self):
        return self.headers.get("RightsDesk-Delivery")


class Receiver:
    """Record every POST; answer with the next scripted status (200 when the script runs out)."""

    def __init__(self):
        self.requests: list[ReceivedRequest] = []
        self.secrets: list[str] = []
        self.sleep_seconds = 1.5
        self._script: list = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.receiver = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address
        return f"http://{host}:{port}/hooks"

    def answer(self, *answers) -> None:
        """Script the next answers: status codes, or TIMEOUT."""
        with self._lock:
            self._script.extend(answers)

    def requests_to(self, path: str) -> list[ReceivedRequest]:
        return [request for request in self.requests if request.path == path]

    def _take(self, request: ReceivedRequest):
        with self._lock:
            self.requests.append(request)
            return self._script.pop(0) if self._script else OK

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        header = self.headers.get(SIGNATURE_HEADER, "")
        valid = bool(receiver.secrets) and all(
            verify_signature(secret, header, body) for secret in receiver.secrets
        )
        answer = receiver._take(ReceivedRequest(self.path, self.headers, body, valid))
        if answer == TIMEOUT:
            time.sleep(receiver.sleep_seconds)
            answer = OK
        try:
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass  # the sender gave up waiting, as it should

    def log_message(self, format, *args):
        pass
