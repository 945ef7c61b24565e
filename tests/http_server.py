"""A real HTTP server on 127.0.0.1 for download tests: basic auth, ranges, cut and stalled transfers."""

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FileServer:
    """Serve ``files`` (path -> bytes) on 127.0.0.1 in a background thread.

    Options, changeable between requests: ``auth`` = (user, password) to
    require basic auth; ``cut_after`` = n to send only n bytes of the next
    full response and close the connection; ``stall`` = seconds to wait
    before the first byte; ``pause_after`` = (n, seconds) to send n bytes of
    every response body, then wait before the rest; ``fail_with`` = an HTTP status (e.g. 500) to answer
    every request with. A Range starting at or past the end gets 416.
    ``requests`` records (path, Range header, status).
    """

    def __init__(self, files):
        self.files = dict(files)
        self.auth = None
        self.cut_after = None
        self.stall = 0
        self.fail_with = None
        self.pause_after = None
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server._respond(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _status(self, handler, code, *, error=False):
        """Record (path, Range header, status) and start the response with ``code``."""
        self.requests.append((handler.path, handler.headers.get("Range"), code))
        (handler.send_error if error else handler.send_response)(code)

    def _respond(self, handler):
        if self.stall:
            time.sleep(self.stall)
        if self.auth is not None:
            expected = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
            if handler.headers.get("Authorization") != expected:
                self._status(handler, 401)
                handler.send_header("WWW-Authenticate", 'Basic realm="smic"')
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
        if self.fail_with is not None:
            self._status(handler, self.fail_with, error=True)
            return
        if handler.path not in self.files:
            self._status(handler, 404, error=True)
            return
        body = self.files[handler.path]
        start = 0
        if handler.headers.get("Range"):
            start = int(handler.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(body):
                self._status(handler, 416)
                handler.send_header("Content-Range", f"bytes */{len(body)}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            self._status(handler, 206)
            handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self._status(handler, 200)
        handler.send_header("Content-Length", str(len(body) - start))
        handler.end_headers()
        payload = body[start:]
        if self.cut_after is not None:
            payload, self.cut_after = payload[: self.cut_after], None
            handler.wfile.write(payload)
            handler.wfile.flush()
            handler.close_connection = True
            return
        if self.pause_after is not None:
            count, seconds = self.pause_after
            handler.wfile.write(payload[:count])
            handler.wfile.flush()
            time.sleep(seconds)
            payload = payload[count:]
        try:
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up or was killed
            pass
