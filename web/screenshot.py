"""Opens a URL in headless Chromium (WebGPU; SwiftShader when there is no GPU), waits until
the page's status line says it is done, and saves a screenshot. Talks to Chromium over its
DevTools pipe (--remote-debugging-pipe: JSON messages, NUL-terminated, on fds 3 and 4).
Usage: screenshot.py URL OUT.png [SECONDS]"""
import base64, json, os, subprocess, sys, tempfile, time

url, out = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 600
to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()

def wire():
    os.dup2(to_chrome_r, 3)
    os.dup2(from_chrome_w, 4)

profile = tempfile.mkdtemp()
chrome = subprocess.Popen(
    ["chromium", "--headless=new", "--no-sandbox", "--enable-unsafe-webgpu",
     "--enable-unsafe-swiftshader", "--use-webgpu-adapter=swiftshader",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--no-first-run", "--user-data-dir=" + profile, "--window-size=820,1300",
     "--remote-debugging-pipe", "about:blank"],
    pass_fds=(3, 4), preexec_fn=wire, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_chrome_r)
os.close(from_chrome_w)
reader = os.fdopen(from_chrome_r, "rb")
next_id = 0
pending = b""

def call(method, params=None, session=None):
    global next_id, pending
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params or {}}
    if session:
        msg["sessionId"] = session
    os.write(to_chrome_w, json.dumps(msg).encode() + b"\0")
    while True:
        while b"\0" not in pending:
            chunk = reader.read1(65536)
            if not chunk:
                sys.exit("chromium closed the DevTools pipe")
            pending += chunk
        raw, pending = pending.split(b"\0", 1)
        reply = json.loads(raw)
        if reply.get("id") == next_id:
            if "error" in reply:
                sys.exit(f"{method}: {reply['error']}")
            return reply["result"]

try:
    target = call("Target.createTarget", {"url": url})["targetId"]
    session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    start, status = time.time(), ""
    while time.time() - start < limit:
        status = call("Runtime.evaluate", {"expression":
            "(document.getElementById('status') || {}).textContent || ''",
            "returnByValue": True}, session)["result"].get("value", "")
        if status == "done" or status.startswith("error") or "no WebGPU" in status:
            break
        time.sleep(1)
    shot = call("Page.captureScreenshot", {"format": "png"}, session)
    with open(out, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(f"status: {status}; wrote {out}")
finally:
    chrome.kill()
