"""A tiny HTTP file server with Range support, for Swapline's download tests.

Python's http.server ignores Range; model downloads resume with it, so tests need a server
that honours it. Binds 127.0.0.1 on a free port, prints the port on the first stdout line,
and appends one line per request ("GET path range-header-or-dash") to LOGFILE.

Usage: python3 scripts/range_http_server.py DIRECTORY LOGFILE
"""
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        directory, log = self.server.directory, self.server.log
        requested = self.headers.get("Range")
        with open(log, "a") as handle:
            handle.write(f"GET {self.path} {requested or '-'}\n")
        path = os.path.join(directory, os.path.basename(self.path))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as handle:
            data = handle.read()
        start, end = 0, len(data) - 1
        if requested and requested.startswith("bytes="):
            first, _, last = requested[6:].partition("-")
            start = int(first)
            end = min(int(last), len(data) - 1) if last else len(data) - 1
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:end + 1]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.directory, server.log = sys.argv[1], sys.argv[2]
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
