#!/usr/bin/python3
"""A scripted LLM for multidb's tests: an OpenAI-compatible (/chat/completions) and Anthropic-compatible
(/v1/messages) HTTP server on 127.0.0.1 that answers from a script instead of a model.

The script is a JSON file: {"rules": [{"match": "<substring of the last user message>", "reply": "<text>",
"status": 200, "delay": 0.0, "raw": "<body sent as is>"}], "default": "<text>"}. Hostile replies for the
robustness tests: "raw" may hold %KEY% (replaced by the API key the request carried, as a server echoing it
would); "raw_hex" sends bytes given in hex (invalid UTF-8); "repeat": {"head", "unit", "count", "tail"} sends
head + unit * count + tail (large bodies without a large script), and "trickle": seconds between 64 kB
chunks of it; "usage" replaces the usage object of a normal reply (odd token counts). The first rule whose match
occurs in the last user message answers (a rule with "after_error": "<substring>" only matches a repair
request, i.e. when the conversation contains that error text). The file is re-read on every request, so a
test can change the script while the server runs. Every request is appended to <script>.log as one JSON line
(path, headers without the key's value, body), so tests can assert what multidb sent.

Usage: llm_stub.py --script FILE --port-file FILE   (port 0: any free port, written to --port-file)
Only the Python standard library is used, so it runs on a bare machine.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def load_script(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def last_user_message(messages):
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # anthropic content blocks
                return "".join(block.get("text", "") for block in content if isinstance(block, dict))
            return content or ""
    return ""


def whole_conversation(payload):
    parts = [payload.get("system") or ""]
    for message in payload.get("messages", []):
        content = message.get("content")
        parts.append(content if isinstance(content, str) else json.dumps(content))
    return "\n".join(parts)


def choose_rule(script, payload):
    """The first rule whose "match" is in the last user message and whose "after_error" (if any) is
    somewhere in the conversation: put repair rules before the rule for the same question."""
    question = last_user_message(payload.get("messages", []))
    conversation = whole_conversation(payload)
    for rule in script.get("rules", []):
        if rule.get("match", "") not in question:
            continue
        if "after_error" in rule and rule["after_error"] not in conversation:
            continue
        return rule
    return {"reply": script.get("default", '{"queries": [], "explanation": "no scripted reply"}')}


class Handler(BaseHTTPRequestHandler):
    script_path = None
    log_lock = threading.Lock()

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            payload = json.loads(raw)
        except ValueError:
            return self.answer(400, {"error": {"message": "body is not JSON"}})
        headers = {k.lower(): ("<set>" if k.lower() in ("authorization", "x-api-key") else v)
                   for k, v in self.headers.items()}
        with self.log_lock, open(self.script_path + ".log", "a", encoding="utf-8") as log:
            log.write(json.dumps({"path": self.path, "headers": headers,
                                  "auth": self.headers.get("Authorization") or self.headers.get("x-api-key"),
                                  "body": payload}) + "\n")
        rule = choose_rule(load_script(self.script_path), payload)
        time.sleep(float(rule.get("delay", 0)))
        status = int(rule.get("status", 200))
        if "raw" in rule:
            key = (self.headers.get("Authorization") or "").replace("Bearer ", "") or self.headers.get("x-api-key") or ""
            return self.answer(status, rule["raw"].replace("%KEY%", key), raw_body=True)
        if "raw_hex" in rule:
            return self.answer(status, bytes.fromhex(rule["raw_hex"]), raw_body=True)
        if "repeat" in rule:
            r = rule["repeat"]
            data = (r.get("head", "") + r["unit"] * int(r["count"]) + r.get("tail", "")).encode("utf-8")
            return self.answer(status, data, raw_body=True, trickle=float(rule.get("trickle", 0)))
        text = rule.get("reply", "")
        model = payload.get("model", "stub")
        if self.path.rstrip("/").endswith("/messages"):
            body = {"id": "msg_stub", "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                    "usage": {"input_tokens": len(json.dumps(payload)) // 4, "output_tokens": len(text) // 4}}
        elif self.path.rstrip("/").endswith("/chat/completions"):
            body = {"id": "chatcmpl-stub", "object": "chat.completion", "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": len(json.dumps(payload)) // 4,
                              "completion_tokens": len(text) // 4}}
        else:
            return self.answer(404, {"error": {"message": "no such endpoint: " + self.path}})
        if "usage" in rule:
            body["usage"] = rule["usage"]
        self.answer(status, body)

    def answer(self, status, body, raw_body=False, trickle=0.0):
        data = body if isinstance(body, bytes) else (body if raw_body else json.dumps(body)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            if trickle <= 0:
                self.wfile.write(data)
                return
            for at in range(0, len(data), 65536):
                self.wfile.write(data[at:at + 65536])
                self.wfile.flush()
                time.sleep(trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what the size limit and cancels do


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    args = parser.parse_args()
    Handler.script_path = args.script
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        import os
        os.replace(args.port_file + ".tmp", args.port_file)
    print(port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
