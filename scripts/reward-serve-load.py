"""Load test of `rapt reward-serve`: 16 threads for 30 s send a mix of good requests (60 %),
malformed ones (37 %: not JSON, too few images, an undecodable image) and 40 MB bodies
(3 %, over the 32 MiB limit), and sample the server's RSS every second. Standard library only.

    python3 scripts/reward-serve-load.py target/release/rapt assets/reward-models/push
"""
import base64, io, json, os, random, subprocess, sys, threading, time, urllib.request, urllib.error, zlib, struct
binary, model = sys.argv[1], sys.argv[2]
p = subprocess.Popen([binary, "reward-serve", model, "--addr", "127.0.0.1:0", "--device", "cpu", "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
url = p.stdout.readline().split(" on ")[1].split(" ")[0]
def png(w, h, seed):
    rnd = random.Random(seed)
    raw = b"".join(b"\x00" + bytes(rnd.randrange(256) for _ in range(w * 3)) for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
img = lambda s: {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png(32, 32, s)).decode()}}
good = json.dumps({"model": "push", "messages": [{"role": "user", "content": [img(1), img(2), img(3)]}]}).encode()
bad = [b"{not json", json.dumps({"model": "push", "messages": [{"role": "user", "content": [img(1)]}]}).encode(),
       json.dumps({"model": "push", "messages": [{"role": "user", "content": [img(1), img(2), {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}).encode()]
huge = b" " * (40 << 20)
counts = {}
lock = threading.Lock()
def send(body):
    try:
        r = urllib.request.urlopen(urllib.request.Request(url + "/chat/completions", data=body, headers={"Content-Type": "application/json"}), timeout=30)
        code = r.status; r.read()
    except urllib.error.HTTPError as e:
        code = e.code; e.read()
    except Exception as e:
        code = type(e).__name__
    return code
def worker(k):
    rnd = random.Random(k)
    end = time.time() + 30
    while time.time() < end:
        x = rnd.random()
        kind, body = ("good", good) if x < 0.6 else ("huge", huge) if x < 0.63 else ("bad", rnd.choice(bad))
        code = send(body)
        with lock:
            counts[(kind, code)] = counts.get((kind, code), 0) + 1
rss = []
def sample():
    while p.poll() is None and len(rss) < 40:
        with open(f"/proc/{p.pid}/status") as f:
            rss.append(int([l for l in f if l.startswith("VmRSS")][0].split()[1]) // 1024)
        time.sleep(1)
threading.Thread(target=sample, daemon=True).start()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
alive = p.poll() is None
p.send_signal(2); out = p.communicate(timeout=30)[0]
print("alive after load:", alive, "exit", p.returncode)
print(sorted(counts.items(), key=str))
print("server RSS MiB per second:", rss)
print(out.strip().splitlines()[-1])
