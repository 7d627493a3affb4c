#!/usr/bin/env python3
"""Times what a person waits for in helpdesk-web, debug against release binary.

Usage (model set up as for `make run`):
  eval "$(scripts/setup-model.sh)"; export ORT_DYLIB_PATH HELPDESK_MODEL_DIR
  python3 scripts/bench-web-profiles.py DEBUG_BIN RELEASE_BIN [ROUNDS]

Each round starts each binary on a fresh data folder and its own port (the order alternates
round by round, so a busy machine weighs on both alike), times start-up to `listening`, then
over HTTP as a browser would (redirects followed): an agent's sign-in, the agent queue, a
ticket page, a customer opening a ticket from the portal, a chat turn answered by the offline
bot, an admin saving a small article. Prints per-round medians and the median over rounds.
BENCHMARKS.md ("`make run`: debug or release") has the figures."""
import http.cookiejar, os, re, shutil, signal, statistics, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request

BINS = {"debug": sys.argv[1], "release": sys.argv[2]}
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 7
REPS = 3  # each request, per server, timed this many times (median kept per round)

def start(kind, port, data):
    shutil.rmtree(data, ignore_errors=True)
    t0 = time.monotonic()
    p = subprocess.Popen([BINS[kind], "--port", str(port), "--data-dir", data],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = []
    for line in p.stdout:
        out.append(line)
        if line.startswith("listening on"):
            break
    t = time.monotonic() - t0
    # read the logins block
    for line in p.stdout:
        out.append(line)
        if line.startswith("=====") and len([l for l in out if l.startswith("=====")]) >= 2:
            break
    text = "".join(out)
    creds = {role: (m.group(1), m.group(2)) for role, m in
             ((r, re.search(r"^\s+" + r + r".*?(\S+@\S+)\s+password: (\S+)", text, re.M))
              for r in ("admin", "agent \\(billing\\)", "customer")) if m}
    # keep draining stdout so the server never blocks on a full pipe
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
    return p, t, creds

class Client:
    def __init__(self, base):
        self.base = base
        self.op = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = None
    def get(self, path):
        t0 = time.monotonic()
        with self.op.open(self.base + path) as r:
            body = r.read().decode()
            url = r.geturl()
        dt = time.monotonic() - t0
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', body)
        if m:
            self.csrf = m.group(1)
        return dt, body, url
    def post(self, path, fields):
        data = urllib.parse.urlencode({"csrf": self.csrf, **fields}).encode()
        t0 = time.monotonic()
        with self.op.open(self.base + path, data) as r:   # follows the redirect, as a browser
            body = r.read().decode()
            url = r.geturl()
        dt = time.monotonic() - t0
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', body)
        if m:
            self.csrf = m.group(1)
        return dt, body, url

def one_server(kind, port, rnd):
    data = os.path.join(tempfile.gettempdir(), f"helpdesk-bench-{kind}-{os.getpid()}")
    p, t_start, creds = start(kind, port, data)
    res = {"startup": [t_start]}
    base = f"http://127.0.0.1:{port}"
    def rec(k, v): res.setdefault(k, []).append(v)
    try:
        # agent: sign-in, queue, ticket page
        for i in range(REPS):
            a = Client(base); a.get("/login")
            dt, _, url = a.post("/login", {"company": "nimbus", "email": creds["agent \\(billing\\)"][0],
                                           "password": creds["agent \\(billing\\)"][1]})
            assert "/agent" in url, url
            rec("sign-in (agent, incl. queue redirect)", dt)
        for i in range(REPS):
            dt, body, _ = a.get("/agent"); rec("agent queue page", dt)
        tid = re.search(r'href="/agent/tickets/([^"]+)"', body).group(1)
        for i in range(REPS):
            dt, body, _ = a.get(f"/agent/tickets/{tid}"); rec("agent ticket page", dt)
        # customer: open a ticket, a chat turn
        c = Client(base); c.get("/login")
        c.post("/login", {"company": "nimbus", "email": creds["customer"][0], "password": creds["customer"][1]})
        for i in range(REPS):
            c.get("/portal/new")
            dt, _, url = c.post("/portal/tickets", {"subject": f"Sync stuck {i}",
                 "description": "The desktop app spins forever when syncing my notes.", "priority": ""})
            assert "/portal/tickets/" in url, url
            rec("open ticket from portal", dt)
        c.get("/chat")
        _, _, url = c.post("/chat/start", {})
        assert "/chat/" in url, url
        cid = url.rsplit("/", 1)[1]
        for i, q in enumerate(["How do I export my notes?", "How do I reset my password?", "Can I share a notebook?"]):
            dt, body, url = c.post(f"/chat/{cid}/message", {"text": q})
            rec("chat turn (offline bot)", dt)
        # admin: save a small article
        ad = Client(base); ad.get("/login")
        ad.post("/login", {"company": "nimbus", "email": creds["admin"][0], "password": creds["admin"][1]})
        for i in range(REPS):
            ad.get("/admin/kb/new")
            dt, body, url = ad.post("/admin/kb", {"title": f"Export to PDF {rnd}-{i}",
                 "tags": "export", "body": "Open the note, choose File, then Export as PDF. " * 3})
            assert "/admin/kb" in url, url
            rec("save article", dt)
    finally:
        p.send_signal(signal.SIGINT)
        try: p.wait(10)
        except subprocess.TimeoutExpired: p.kill(); p.wait()
        shutil.rmtree(data, ignore_errors=True)
    return {k: statistics.median(v) for k, v in res.items()}, res

all_rounds = {"debug": [], "release": []}
for r in range(ROUNDS):
    order = ["debug", "release"] if r % 2 == 0 else ["release", "debug"]
    for kind in order:
        med, raw = one_server(kind, 18270 + (0 if kind == "debug" else 1), r)
        all_rounds[kind].append(med)
        print(f"round {r} {kind}: " + ", ".join(f"{k}={v*1000:.0f}ms" for k, v in med.items()),
              f"load={os.getloadavg()[0]:.2f}", flush=True)

print("\nmedian over rounds (ms):")
keys = list(all_rounds["debug"][0].keys())
print(f"{'request':42} {'debug':>8} {'release':>8} {'ratio':>6}")
for k in keys:
    d = statistics.median(x[k] for x in all_rounds["debug"]) * 1000
    rl = statistics.median(x[k] for x in all_rounds["release"]) * 1000
    print(f"{k:42} {d:8.1f} {rl:8.1f} {d/rl:6.1f}")
