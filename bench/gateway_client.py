#!/usr/bin/python3
"""The HTTP side of `make bench`'s gateway figures (bench/run.sh, section (j)): a client of multidb-web on the
standard library only (http.client, keep-alive connections, threads), printing one JSON object per command.

  latency URL --role R --password P --body JSON --calls N [--basic]
      N requests POST /api/multi-query/ one after another on one keep-alive connection, signed in once with
      the cookie (or with HTTP Basic on every request, a password check each): the median and each time, in ms.
  load URL --role R --password P --body JSON --clients C --seconds S
      C threads, each its own keep-alive connection, sending the request as fast as answered for S seconds:
      requests/s, p50/p99 latency, errors (any status but 200, any failed connection).
  streams URL --role R --password P --body JSON --count N --gateway-pid PID --hold SECONDS --ready CMD [--pace S]
      opens N asks with Accept: text/event-stream, one after another (S seconds apart), each read up to its first
      event (its run id), holds them all open until CMD says the coordinator runs all N (at most SECONDS), reads the gateway's
      memory and threads, runs --probe if given, checks that each stream is still open, then closes them.
  first-event URL --role R --password P --body JSON --runs N --log FILE
      N streamed asks one after another (each question made unique); the time each `plan` event arrived, against
      the coordinator's log time of its plan NOTICE (log_line_prefix '%m', UTC): the median gap in ms.
"""
import argparse
import base64
import calendar
import http.client
import json
import re
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse


def connect(url):
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)


def sign_in(url, role, password):
    """Signs in once (POST /api/auth/login); returns the headers a cookie request sends."""
    conn = connect(url)
    conn.request("POST", "/api/auth/login", body=json.dumps({"role": role, "password": password}),
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"sign-in as {role} failed: {response.status}")
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    conn.close()
    return {"Cookie": cookie, "X-Multidb-CSRF": "1"}


def basic_headers(role, password):
    token = base64.b64encode(f"{role}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def ask(conn, body, auth):
    """One POST /api/multi-query/ on a kept connection: (status, decoded answer or None)."""
    headers = {"Content-Type": "application/json", **auth}
    conn.request("POST", "/api/multi-query/", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, None


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def cmd_latency(args):
    auth = basic_headers(args.role, args.password) if args.basic else sign_in(args.url, args.role, args.password)
    conn = connect(args.url)
    times, caches = [], set()
    for _ in range(args.warm_up + args.calls):
        started = time.perf_counter()
        status, answer = ask(conn, args.body, auth)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise SystemExit(f"POST /api/multi-query/ answered {status}: {answer}")
        times.append(elapsed)
        caches.add(str(answer.get("cache")))
    times = times[args.warm_up:]
    print(json.dumps({"median_ms": statistics.median(times), "caches": sorted(caches), "ms": times}))


def cmd_load(args):
    auth = sign_in(args.url, args.role, args.password)
    deadline = time.perf_counter() + args.seconds
    lock = threading.Lock()
    latencies, errors, statuses = [], [0], {}
    start_together = threading.Barrier(args.clients)

    def client():
        conn = connect(args.url)
        mine, failed = [], 0
        start_together.wait()
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status, _ = ask(conn, args.body, auth)
            except (OSError, http.client.HTTPException) as e:
                status = "connection failed: " + type(e).__name__
                conn.close()
                conn = connect(args.url)
            if status == 200:
                mine.append((time.perf_counter() - started) * 1000)
            else:
                failed += 1
                with lock:
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    print(json.dumps({"clients": args.clients, "requests": len(latencies), "seconds": round(wall, 2),
                      "requests_per_s": round(len(latencies) / wall, 1), "p50_ms": percentile(latencies, 0.50),
                      "p99_ms": percentile(latencies, 0.99), "errors": errors[0], "error_statuses": statuses}))


def process_status(pid):
    """The gateway's resident memory (kB) and thread count, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        text = status.read()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)), int(re.search(r"Threads:\s+(\d+)", text).group(1))


def open_stream(url, body, auth):
    """Sends a streamed ask on a raw socket and reads until its first event (the run id); returns the socket,
    or raises with what the gateway answered instead."""
    parts = urllib.parse.urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = (f"POST /api/multi-query/ HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in auth.items()) + "\r\n")
    sock.sendall(head.encode() + body.encode())
    received = b""
    while b"event: run" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the gateway closed the stream: " + received.decode(errors="replace")[:300])
        received += chunk
        if len(received) > 65536:
            raise RuntimeError("no run event in the first 64 kB")
    if not received.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(received.decode(errors="replace")[:300])
    return sock


def cmd_streams(args):
    auth = sign_in(args.url, args.role, args.password)
    before_kb, before_threads = process_status(args.gateway_pid)
    streams, failures = [], []
    began = time.perf_counter()
    for _ in range(args.count):
        time.sleep(args.pace)
        try:
            streams.append(open_stream(args.url, args.body, auth))
        except (OSError, RuntimeError) as e:
            failures.append(str(e))
            if len(failures) >= 3:
                break
    opened_s = time.perf_counter() - began
    # Held until the coordinator runs every ask (--ready prints how many it runs), at most --hold seconds.
    running, ready_s = None, None
    while time.perf_counter() - began < args.hold:
        time.sleep(0.5)
        if not args.ready:
            continue
        output = subprocess.run(args.ready, shell=True, capture_output=True, text=True).stdout.strip()
        running = int(output) if output.isdigit() else None
        if running is not None and running >= len(streams):
            ready_s = time.perf_counter() - began
            break
    with_kb, with_threads = process_status(args.gateway_pid)
    probe = subprocess.run(args.probe, shell=True, capture_output=True, text=True).stdout.strip() if args.probe else None
    # Still open: each stream's comment probes (one a second of silence) keep arriving, and no stream ended
    # (with an error or a result event).
    alive, ended = 0, {}
    for sock in streams:
        sock.settimeout(3)
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if data and b"event: error" not in data and b"event: result" not in data:
            alive += 1
        else:
            why = re.search(rb"event: error\r?\ndata: (.*)", data)
            try:
                error = json.loads(why.group(1))["error"] if why else {}
            except (ValueError, KeyError, TypeError):
                error = {}
            key = " / ".join(str(error.get(k)) for k in ("message", "detail") if error.get(k)) or "closed"
            ended[key] = ended.get(key, 0) + 1
    for sock in streams:
        sock.close()
    print(json.dumps({"asked": args.count, "opened": len(streams), "alive_after_hold": alive,
                      "open_seconds": round(opened_s, 2),
                      "running_at_coordinator": running, "all_running_after_s": ready_s and round(ready_s, 2), "failures": failures[:3],
                      "rss_kb_before": before_kb, "rss_kb_with": with_kb, "threads_before": before_threads,
                      "threads_with": with_threads, "probe": probe, "ended": ended}))


def log_times(path, start_offset):
    """The log time (seconds since the epoch) of every plan NOTICE after start_offset, in order."""
    pattern = re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) UTC \[\d+\] NOTICE:  multidb progress: plan$",
                         re.M)
    with open(path, errors="replace") as log:
        log.seek(start_offset)
        text = log.read()
    times = []
    for match in pattern.finditer(text):
        y, mo, d, h, mi, s, ms = (int(part) for part in match.groups())
        times.append(calendar.timegm((y, mo, d, h, mi, s)) + ms / 1000)
    return times


def cmd_first_event(args):
    auth = sign_in(args.url, args.role, args.password)
    base = json.loads(args.body)
    with open(args.log, "rb") as log:
        log.seek(0, 2)
        offset = log.tell()
    arrivals = []
    for run in range(args.runs):
        body = json.dumps({**base, "question": f"{base['question']} {run} {time.time()}"})
        sock = open_stream(args.url, body, auth)
        received, arrived = b"", None
        sock.settimeout(30)
        while b"event: result" not in received and b"event: error" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            if arrived is None and b"event: plan" in received + chunk:
                arrived = time.time()
            received += chunk
        sock.close()
        if arrived is None:
            raise SystemExit("no plan event: " + received.decode(errors="replace")[-300:])
        arrivals.append(arrived)
    time.sleep(0.5)  # the log is written by the server's logger: let the last lines land
    logged = log_times(args.log, offset)
    if len(logged) != len(arrivals):
        raise SystemExit(f"{len(arrivals)} plan events but {len(logged)} plan NOTICEs in {args.log}")
    gaps = [(a - b) * 1000 for a, b in zip(arrivals, logged)]
    print(json.dumps({"runs": args.runs, "median_ms": statistics.median(gaps), "max_ms": max(gaps),
                      "gaps_ms": [round(g, 1) for g in gaps]}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["latency", "load", "streams", "first-event"])
    parser.add_argument("url")
    parser.add_argument("--role", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--body", required=True, help="the JSON body of POST /api/multi-query/")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=5)
    parser.add_argument("--basic", action="store_true", help="latency: HTTP Basic on every request")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--hold", type=float, default=60)
    parser.add_argument("--gateway-pid", type=int)
    parser.add_argument("--probe", help="streams: a shell command run while they are held (its output is kept)")
    parser.add_argument("--pace", type=float, default=0, help="streams: seconds between two opened")
    parser.add_argument("--ready", help="streams: a shell command printing how many asks the coordinator runs")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--log")
    args = parser.parse_args()
    {"latency": cmd_latency, "load": cmd_load, "streams": cmd_streams, "first-event": cmd_first_event}[args.command](args)


if __name__ == "__main__":
    main()
