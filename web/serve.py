#!/usr/bin/env python3
"""Serves the built page (web/dist) and takes its reports.

Usage: web/serve.py [--port PORT] [--dir DIR] [--report-file FILE] [--once]

GET serves the files of DIR (default: web/dist beside this script). A POST (the page
opened with `?report=/report` sends one when its work is done) is printed as one JSON
line on stdout, appended to FILE when --report-file is given, and answered 204. With
--once the server exits after the first report (its exit status is 1 when the report
says "error"). Only the Python standard library is used.
"""
import argparse
import functools
import http.server
import json
import os
import sys
import threading

MAX_REPORT = 64 * 1024 * 1024


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    ap.add_argument("--dir", default=os.path.join(here, "dist"), help="the built page (default web/dist)")
    ap.add_argument("--report-file", help="append each report (one JSON line) to this file")
    ap.add_argument("--once", action="store_true", help="exit after the first report")
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.dir, "index.html")):
        sys.exit(f"web/serve.py: --dir {a.dir} has no index.html: run web/build.sh first")
    failed = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          ".wasm": "application/wasm", ".js": "text/javascript"}

        def log_message(self, *args):  # quiet: reports go to stdout, errors to stderr
            pass

        def do_POST(self):
            try:
                n = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                n = -1
            if not 0 <= n <= MAX_REPORT:
                self.send_error(413, "a report has a Content-Length up to 64 MiB")
                return
            body = self.rfile.read(n).decode("utf-8", "replace")
            try:
                report = json.loads(body)
            except json.JSONDecodeError as e:
                self.send_error(400, f"the report is not JSON: {e}")
                return
            line = json.dumps(report, separators=(",", ":"))
            print(line, flush=True)
            if a.report_file:
                with open(a.report_file, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
            self.send_response(204)
            self.end_headers()
            if a.once:
                failed.append(isinstance(report, dict) and "error" in report)
                threading.Thread(target=self.server.shutdown, daemon=True).start()

    handler = functools.partial(Handler, directory=a.dir)
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), handler)
    except OSError as e:
        sys.exit(f"web/serve.py: --port {a.port}: {e.strerror}")
    print(f"serving {a.dir} at http://127.0.0.1:{server.server_address[1]}/ "
          f"(open /?autorun=1&report=/report to train and report)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(1 if any(failed) else 0)


if __name__ == "__main__":
    main()
