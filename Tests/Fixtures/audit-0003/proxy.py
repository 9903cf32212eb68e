import http.server, urllib.request, sys, threading
UP = sys.argv[2]
count = [0]
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def handle_one(self):
        with lock:
            count[0] += 1; n = count[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if n % 7 == 0 and self.path != "/v2/":
            msg = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"retry-after: 5ms, allowed: 2000/minute"}]}'
            self.send_response(429); self.send_header("Content-Length", str(len(msg))); self.send_header("Content-Type","application/json"); self.end_headers(); self.wfile.write(msg); return
        req = urllib.request.Request("http://" + UP + self.path, data=body, method=self.command)
        for k, v in self.headers.items():
            if k.lower() not in ("host", "content-length", "connection"): req.add_header(k, v)
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k): return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            r = opener.open(req); status = r.status; hdrs = r.headers; data = r.read()
        except urllib.error.HTTPError as e:
            status = e.code; hdrs = e.headers; data = e.read()
        self.send_response(status)
        for k, v in hdrs.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"): self.send_header(k, v)
        self.send_header("Content-Length", str(len(data))); self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
