#!/usr/bin/env python3
"""steadygrad's page against TF.js 4.22 in the same headless Chromium, side by side.

    web/build.sh                                   # the page, into web/dist
    (cd benches/tfjs && npm install)               # TF.js 4.22 (pinned in package.json)
    python3 benches/tfjs/compare.py [--batches 32,256] [--epochs 3] [--backends wasm]
                                    [--chromium chromium] [--markdown]

Serves web/dist at /steadygrad/, this folder at /tfjs/ and the bundled digits at /data/ from
one local server (cross-origin isolated, so TF.js's wasm backend may use its threads), opens
each page in its own headless Chromium on SwiftShader's WebGPU adapter, one after another,
and prints the steady-state samples/s of each (the best epoch after the first): the page's
bench mode (`?bench=1`) and TF.js's `model.fit` on the same seed network, optimizer and
digits. TF.js's webgpu backend runs too with `--backends wasm,webgpu` (slow on SwiftShader:
minutes an epoch). Not part of the product; nothing here is needed to build or test it.
"""
import argparse
import functools
import http.server
import json
import os
import platform
import queue
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
ROUTES = {
    "/steadygrad/": os.path.join(ROOT, "web", "dist"),
    "/tfjs/": HERE,
    "/data/": os.path.join(ROOT, "data"),
}


def serve(reports):
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          ".wasm": "application/wasm", ".js": "text/javascript"}

        def log_message(self, *args):
            pass

        def translate_path(self, path):
            clean = path.split("?", 1)[0]
            for prefix, folder in ROUTES.items():
                if clean.startswith(prefix):
                    self.directory = folder
                    return super().translate_path("/" + clean[len(prefix):])
            return os.path.join(ROOT, "nonexistent")

        def end_headers(self):
            # Cross-origin isolation: SharedArrayBuffer, so TF.js's wasm backend can thread.
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            super().end_headers()

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(min(n, 1 << 20)).decode("utf-8", "replace")
            self.send_response(204)
            self.end_headers()
            reports.put(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=ROOT))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_page(chromium, url, reports, timeout):
    profile = tempfile.mkdtemp(prefix="steadygrad-compare-")
    page = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={profile}", "--enable-unsafe-webgpu", "--enable-unsafe-swiftshader",
         "--use-webgpu-adapter=swiftshader", "--remote-debugging-port=0", url],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = reports.get(timeout=timeout)
    except queue.Empty:
        body = json.dumps({"error": f"no report within {timeout} s"})
    finally:
        page.kill()
        page.wait()
        shutil.rmtree(profile, ignore_errors=True)
    report = json.loads(body)
    if "error" in report:
        sys.exit(f"benches/tfjs/compare.py: {url}: {report['error']}")
    return report


def cpu():
    """The processor's model name and logical cores, e.g. `AMD EPYC 7B13, 2 cores`."""
    name = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    name = " ".join(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", default="32,256")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--backends", default="wasm", help="TF.js backends, comma-separated")
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds a page may take")
    ap.add_argument("--markdown", action="store_true", help="the table only, with a line saying where it ran")
    a = ap.parse_args()
    try:
        batches = [int(b) for b in a.batches.split(",")]
    except ValueError:
        sys.exit(f"benches/tfjs/compare.py: --batches {a.batches}: expected numbers like 32,256")
    if a.epochs < 1 or any(b < 1 for b in batches):
        sys.exit("benches/tfjs/compare.py: --epochs and --batches must be at least 1")
    backends = [b for b in a.backends.split(",") if b]
    if not os.path.isfile(os.path.join(ROUTES["/steadygrad/"], "index.html")):
        sys.exit("benches/tfjs/compare.py: no web/dist/index.html: run web/build.sh first")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "@tensorflow", "tfjs")):
        sys.exit("benches/tfjs/compare.py: no TF.js: run `npm install` in benches/tfjs first")
    if shutil.which(a.chromium) is None:
        sys.exit(f"benches/tfjs/compare.py: --chromium {a.chromium}: not found")
    reports = queue.Queue()
    server = serve(reports)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    rows, tfjs_version, adapter = [], "4.22.0", ""
    for batch in batches:
        ours = run_page(a.chromium, f"{base}/steadygrad/?bench=1&batch={batch}&epochs={a.epochs}&report=/report",
                        reports, a.timeout)
        adapter = ours["adapter"]
        theirs = {}
        for b in backends:
            r = run_page(a.chromium, f"{base}/tfjs/index.html?backend={b}&batch={batch}&epochs={a.epochs}&report=/report",
                         reports, a.timeout)
            tfjs_version = r["tfjs"]
            label = b + (f" ({r['threads']} threads)" if r.get("threads") else "")
            theirs[label] = r["steady_samples_per_second"]
            if not a.markdown:
                print(json.dumps({"batch": batch, "tfjs": r}), flush=True)
        rows.append((batch, ours["steady_samples_per_second"], theirs))
        if not a.markdown:
            print(json.dumps({"batch": batch, "steadygrad": ours}), flush=True)
    server.shutdown()
    labels = list(rows[0][2].keys())
    print(f"| batch | steadygrad page (WebGPU, {adapter}) | "
          + " | ".join(f"TF.js {tfjs_version} {l}" for l in labels) + " | steadygrad / best TF.js |")
    print("|---" * (len(labels) + 3) + "|")
    for batch, ours, theirs in rows:
        best = max(theirs.values()) if theirs else float("nan")
        print(f"| {batch} | {ours:.0f} | " + " | ".join(f"{theirs[l]:.0f}" for l in labels)
              + f" | {ours / best:.2f} |")
    if a.markdown:
        print(f"\nPrinted by `python3 benches/tfjs/compare.py --batches {a.batches} --epochs {a.epochs} "
              f"--backends {a.backends} --markdown` on {cpu()}, headless Chromium; steady state "
              f"(the best epoch after the first).")


if __name__ == "__main__":
    main()
