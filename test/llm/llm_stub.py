#!/usr/bin/python3
r"""A scripted LLM for multidb's tests: an HTTP server on 127.0.0.1 that answers chat requests from a script
instead of a model, optionally behaving as a named real provider does (a "profile").

The script is a JSON file, re-read on every request (a test may change it while the server runs):
  {"profile": "<name>", "rules": [<rule>, ...], "default": "<text>"}        ("profile" is optional)
The first rule whose "match" occurs in the last user message answers; a rule with "after_error": "<text>" only
matches a repair request (the conversation contains that text). When no rule matches, "default" is the reply.

Rule keys:
  match, after_error  which requests the rule answers (above)
  reply         the answer text
  status        HTTP status of the answer (200)
  delay         seconds to wait before answering at all
  headers       extra response headers for the rule's answer, {"name": "value"}
  usage         replaces the usage object of the reply (odd token counts)
  finish        "length": the text cut to its first half, finish_reason "length" (Anthropic: stop_reason
                "max_tokens"); "content_filter": content null, finish_reason "content_filter"; "refusal": content
                null, message.refusal "I'm sorry, I can't help with that.", finish_reason "stop" (Anthropic:
                stop_reason "refusal", content []). Any other value is passed on as the finish reason.
  fail_first    [{"status": 429, "headers": {"retry-after": "1"}, "body": <JSON or string>}, ...]: the first
                requests this rule answers get these failures in turn, later ones the normal answer. Without
                "body", the profile's error for that status (no profile: OpenAI's, or Anthropic's on /messages).
                Requests are counted per "match" text for the life of the server (rewriting the script does not
                start the failures over), and only once they pass the profile's checks.
  error_in_200  N (OpenRouter): after any fail_first failures, the next N requests get HTTP 200 with
                {"error": {"code": 502, "message": "Provider returned error", ...}} and no choices
  gemini_error  "<message>" (Gemini): answer 400 with that message in the profile's error shape
  profile       overrides the script's profile for this rule (null: no profile)
  draft         the reasoning text of the thinking profiles; the default holds a wrong plan,
                {"queries":[{"database":"production","sql":"SELECT 'draft' AS wrong"}]}, that must not be taken
Hostile answers, sent after the profile's checks instead of a shaped reply:
  raw           body sent as is; %KEY% is replaced by the API key the request carried (a server echoing it)
  raw_hex       body bytes given in hex (invalid UTF-8)
  repeat        {"head", "unit", "count", "tail"}: head + unit * count + tail (a large body, a small script)
  trickle       seconds between 64 kB chunks of a repeat body

Without a profile nothing is checked and the answer's shape follows the path: OpenAI's for .../chat/completions,
Anthropic's for .../messages, 404 otherwise. With a profile the request is first checked as that provider checks
it (path, key header, body) and refused with that provider's status and error body; a valid one gets the reply
in that provider's shape (details in provider_profiles.py):
  openai             Bearer key; model; messages: roles system/developer/user/assistant, content non-empty;
                     temperature 0..2; response_format json_object (the messages must say "json") or json_schema
  openai_reasoning   as openai, but max_tokens and a temperature other than 1 are refused; usage has
                     completion_tokens_details.reasoning_tokens
  azure_classic      /openai/deployments/<deployment>/chat/completions?api-version=..., key in an api-key header,
                     model optional; the reply names a dated model, not the deployment
  azure_v1           /openai/v1/chat/completions, Bearer or api-key, model required; the reply's model is dated
  anthropic          /v1/messages; x-api-key, anthropic-version, max_tokens; messages start with user and
                     alternate user/assistant, non-empty content; system only top-level; temperature 0..1
  anthropic_no_temperature  as anthropic, temperature refused; a thinking block (the draft) before the text
  ollama_think       no key; content "<think>\n" + draft + "\n</think>\n\n" + reply
  vllm_think         no key; message.reasoning_content is the draft, content the reply
  think_unopened     no key; content draft + "\n</think>\n\n" + reply (the template opened <think>)
  llamacpp           no key, model optional; a conversation that is not [system,] user, assistant, user, ...
                     gets 500 "Conversation roles must alternate ..." from the chat template
  lmstudio           no key; response_format json_object refused, json_schema needs json_schema.schema;
                     errors are {"error": "<string>"}
  openrouter         Bearer key; error_in_200; errors {"error": {"code": <number>, "message"}}
  deepseek           Bearer key; the reply's JSON comes after "\n\n\n" (keep-alive blank lines)
  mistral            Bearer key; content is a list: a thinking part (the draft), then the text part
  gemini             Bearer key; /v1beta/openai/chat/completions; errors as [{"error": {code, message, status}}]

Every request is appended to <script>.log as one JSON line: at (arrival time, time.time()), path (with its
query), headers (the key headers' values hidden), auth (the key header as sent), body; so tests can assert what
multidb sent.

Usage: llm_stub.py --script FILE --port-file FILE   (port 0: any free port, written to --port-file)
Only the Python standard library is used, so it runs on a bare machine.
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from provider_profiles import PROFILES, UNPROFILED, ChatRequest, Rejection

KEY_HEADERS = ("authorization", "x-api-key", "api-key")


def load_script(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def last_user_message(messages):
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # content blocks (Anthropic) or parts (OpenAI)
                return "".join(block.get("text", "") for block in content if isinstance(block, dict))
            return content if isinstance(content, str) else ""
    return ""


def whole_conversation(payload):
    system = payload.get("system") or ""
    parts = [system if isinstance(system, str) else json.dumps(system)]
    for message in payload.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else message
        parts.append(content if isinstance(content, str) else json.dumps(content))
    return "\n".join(parts)


def choose_rule(script, payload):
    """The first rule whose "match" is in the last user message and whose "after_error" (if any) is
    somewhere in the conversation: put repair rules before the rule for the same question."""
    payload = payload if isinstance(payload, dict) else {}
    question = last_user_message(payload.get("messages", []))
    conversation = whole_conversation(payload)
    for rule in script.get("rules", []):
        if rule.get("match", "") not in question:
            continue
        if "after_error" in rule and rule["after_error"] not in conversation:
            continue
        return rule
    return {"reply": script.get("default", '{"queries": [], "explanation": "no scripted reply"}')}


class RuleCounters:
    """How many requests each rule with scripted failures has answered. They live in the server process, so a
    test that rewrites the script does not start a rule's failures over."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answered = {}

    def take_turn(self, match):
        with self.lock:
            turn = self.answered.get(match, 0)
            self.answered[match] = turn + 1
            return turn


class Handler(BaseHTTPRequestHandler):
    script_path = None
    log_lock = threading.Lock()
    counters = RuleCounters()

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def do_POST(self):
        arrived = time.time()
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            payload = json.loads(raw)
        except ValueError:
            return self.answer(400, self.unparsable_body_error())
        self.append_to_request_log(arrived, payload)
        script = load_script(self.script_path)
        rule = choose_rule(script, payload)
        profile_name = rule.get("profile", script.get("profile"))
        profile = PROFILES.get(profile_name) if profile_name else UNPROFILED
        if profile is None:  # a typo in a test's script should say so, not look like a provider's error
            return self.answer(500, {"error": {"message": "llm_stub: unknown profile %r (known: %s)"
                                               % (profile_name, ", ".join(sorted(PROFILES)))}})
        time.sleep(float(rule.get("delay", 0)))
        request = ChatRequest(self.path, self.headers, payload)
        try:
            profile.check(request)
            self.raise_scripted_failure(profile, request, rule)
            self.answer_rule(profile, request, rule)
        except Rejection as rejection:
            self.answer(rejection.status, rejection.body, rejection.headers)

    def unparsable_body_error(self):
        try:
            profile = PROFILES.get(load_script(self.script_path).get("profile"))
        except (OSError, ValueError):
            profile = None
        if profile is None:
            return {"error": {"message": "body is not JSON"}}
        return profile.error_body(400, "We could not parse the JSON body of your request.")

    def append_to_request_log(self, arrived, payload):
        headers = {name.lower(): ("<set>" if name.lower() in KEY_HEADERS else value)
                   for name, value in self.headers.items()}
        auth = self.headers.get("Authorization") or self.headers.get("x-api-key") or self.headers.get("api-key")
        with self.log_lock, open(self.script_path + ".log", "a", encoding="utf-8") as log:
            log.write(json.dumps({"at": arrived, "path": self.path, "headers": headers, "auth": auth,
                                  "body": payload}) + "\n")

    def raise_scripted_failure(self, profile, request, rule):
        failures = rule.get("fail_first") or []
        errors_in_200 = int(rule.get("error_in_200", 0))
        if failures or errors_in_200:
            turn = self.counters.take_turn(rule.get("match", ""))
            if turn < len(failures):
                failure = failures[turn]
                status = int(failure.get("status", 429))
                body = failure["body"] if "body" in failure else profile.failure_body(request, status)
                raise Rejection(status, body, failure.get("headers"))
            if turn < len(failures) + errors_in_200:
                raise Rejection(200, profile.error_in_200_body())
        if "gemini_error" in rule:
            raise Rejection(400, profile.error_body(400, rule["gemini_error"]))

    def answer_rule(self, profile, request, rule):
        status = int(rule.get("status", 200))
        headers = rule.get("headers")
        if "raw" in rule:
            key = ((self.headers.get("Authorization") or "").replace("Bearer ", "") or self.headers.get("x-api-key")
                   or self.headers.get("api-key") or "")
            return self.answer(status, rule["raw"].replace("%KEY%", key), headers)
        if "raw_hex" in rule:
            return self.answer(status, bytes.fromhex(rule["raw_hex"]), headers)
        if "repeat" in rule:
            r = rule["repeat"]
            data = (r.get("head", "") + r["unit"] * int(r["count"]) + r.get("tail", "")).encode("utf-8")
            return self.answer(status, data, headers, trickle=float(rule.get("trickle", 0)))
        body = profile.reply(request, rule)
        if "usage" in rule:
            body["usage"] = rule["usage"]
        self.answer(status, body, headers, prefix=profile.body_prefix)

    def answer(self, status, body, headers=None, trickle=0.0, prefix=b""):
        """Sends body: bytes and str as they are, anything else as JSON; prefix goes first, flushed on its own,
        as a provider sends keep-alive bytes before the body is ready."""
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = json.dumps(body).encode("utf-8")
        extra = {str(name): str(value) for name, value in (headers or {}).items()
                 if str(name).lower() != "content-length"}  # the length is always the true one
        self.send_response(status)
        if not any(name.lower() == "content-type" for name in extra):
            self.send_header("Content-Type", "application/json")
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(prefix) + len(data)))
        self.end_headers()
        try:
            if prefix:
                self.wfile.write(prefix)
                self.wfile.flush()
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
        os.replace(args.port_file + ".tmp", args.port_file)
    print(port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
