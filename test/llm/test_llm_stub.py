#!/usr/bin/python3
"""Self-test of llm_stub.py and its provider profiles: starts the stub on a free port and checks over real HTTP
that without a profile it behaves as it always did, and that every profile refuses and answers as its provider
does. Run: /usr/bin/python3 test/llm/test_llm_stub.py"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from provider_profiles import DEFAULT_DRAFT, REFUSAL_TEXT, WRONG_DRAFT_PLAN  # noqa: E402

STUB = None  # the running stub, started once for the module


class RunningStub:
    def __init__(self):
        self.dir = tempfile.TemporaryDirectory()
        self.script = os.path.join(self.dir.name, "script.json")
        self.set_script(rules=[])
        port_file = os.path.join(self.dir.name, "port")
        # A file, not a pipe: a pipe nobody reads would block the stub once its tracebacks fill it.
        self.stderr_path = os.path.join(self.dir.name, "stderr")
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "llm_stub.py"), "--script",
                                             self.script, "--port-file", port_file],
                                            stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.time() + 10
        while not (os.path.exists(port_file) and os.path.getsize(port_file)):
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("the stub did not start: " + self.stderr())
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        """Stops the stub; returns what it wrote to stderr (a handler's traceback), which should be nothing."""
        self.process.terminate()
        self.process.wait(timeout=5)
        written = self.stderr()
        self.dir.cleanup()
        return written

    def set_script(self, **script):
        with open(self.script + ".tmp", "w", encoding="utf-8") as f:
            json.dump(script, f)
        os.replace(self.script + ".tmp", self.script)

    def requests(self):
        try:
            with open(self.script + ".log", encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def post(self, path, body, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        connection.request("POST", path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, raw)


class Answer:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.json = json.loads(raw)
        except ValueError:
            self.json = None


def setUpModule():
    global STUB
    STUB = RunningStub()


def tearDownModule():
    written = STUB.stop()
    if written:
        raise AssertionError("the stub wrote to stderr (a request handler failed):\n" + written)


OPENAI_KEY = {"Authorization": "Bearer sk-test"}
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}


def chat(question, model="gpt-4o", **extra):
    return {"model": model, "messages": [{"role": "system", "content": "You plan queries."},
                                         {"role": "user", "content": question}], **extra}


def anthropic_chat(question, **extra):
    return {"model": "claude-test", "max_tokens": 100, "system": "You plan queries.",
            "messages": [{"role": "user", "content": question}], **extra}


class StubTest(unittest.TestCase):
    def script(self, **script):
        STUB.set_script(**script)

    def assertOpenAIError(self, answer, status, message=None, param="unset", code="unset"):
        self.assertEqual(answer.status, status, answer.raw)
        error = answer.json["error"]
        self.assertIsInstance(error["message"], str)
        if message is not None:
            self.assertEqual(error["message"], message)
        if param != "unset":
            self.assertEqual(error["param"], param)
        if code != "unset":
            self.assertEqual(error["code"], code)
        return error

    def assertAnthropicError(self, answer, status, kind, message=None):
        self.assertEqual(answer.status, status, answer.raw)
        self.assertEqual(answer.json["type"], "error")
        self.assertEqual(answer.json["error"]["type"], kind)
        if message is not None:
            self.assertEqual(answer.json["error"]["message"], message)

    def content(self, answer):
        self.assertEqual(answer.status, 200, answer.raw)
        return answer.json["choices"][0]["message"]["content"]


class WithoutProfile(StubTest):
    """The old behaviour, which the TAP tests depend on, byte for byte where it can be."""

    def test_plain_rule_openai_shape(self):
        self.script(rules=[{"match": "plain question", "reply": "the answer"}])
        body = chat("a plain question")
        answer = STUB.post("/v1/chat/completions", body)
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.headers["content-type"], "application/json")
        self.assertEqual(answer.json, {
            "id": "chatcmpl-stub", "object": "chat.completion", "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "the answer"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(json.dumps(body)) // 4, "completion_tokens": len("the answer") // 4}})

    def test_anthropic_path_and_default_reply(self):
        self.script(rules=[], default="fallback text")
        body = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "anything"}]}
        answer = STUB.post("/v1/messages", body)  # no key, no version: nothing is checked without a profile
        self.assertEqual(answer.json, {
            "id": "msg_stub", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [{"type": "text", "text": "fallback text"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": len(json.dumps(body)) // 4, "output_tokens": len("fallback text") // 4}})

    def test_no_rule_no_default(self):
        self.script(rules=[])
        self.assertEqual(self.content(STUB.post("/chat/completions", chat("x"))),
                         '{"queries": [], "explanation": "no scripted reply"}')

    def test_raw_rule_echoes_key(self):
        self.script(rules=[{"match": "echo", "status": 401, "raw": '{"error": {"message": "key %KEY% bad"}}'}])
        answer = STUB.post("/v1/chat/completions", chat("echo the key"), {"Authorization": "Bearer sk-SECRET"})
        self.assertEqual(answer.status, 401)
        self.assertEqual(answer.raw, b'{"error": {"message": "key sk-SECRET bad"}}')

    def test_raw_hex_and_repeat(self):
        self.script(rules=[{"match": "hex", "raw_hex": "fffe41"},
                           {"match": "rep", "repeat": {"head": "[", "unit": "ab", "count": 3, "tail": "]"}}])
        self.assertEqual(STUB.post("/v1/chat/completions", chat("hex")).raw, b"\xff\xfeA")
        self.assertEqual(STUB.post("/v1/chat/completions", chat("rep")).raw, b"[ababab]")

    def test_usage_override(self):
        self.script(rules=[{"match": "odd", "reply": "x", "usage": {"prompt_tokens": "many"}}])
        self.assertEqual(STUB.post("/v1/chat/completions", chat("odd counts")).json["usage"],
                         {"prompt_tokens": "many"})

    def test_after_error_only_matches_repairs(self):
        self.script(rules=[{"match": "revenue", "after_error": "no such column", "reply": "repaired"},
                           {"match": "revenue", "reply": "first try"}])
        self.assertEqual(self.content(STUB.post("/v1/chat/completions", chat("revenue"))), "first try")
        repair = {"model": "m", "messages": [{"role": "user", "content": "revenue"},
                                             {"role": "assistant", "content": "{}"},
                                             {"role": "user", "content": "error: no such column. revenue"}]}
        self.assertEqual(self.content(STUB.post("/v1/chat/completions", repair)), "repaired")

    def test_status_and_delay(self):
        self.script(rules=[{"match": "slow", "reply": "late", "status": 202, "delay": 0.3}])
        started = time.time()
        answer = STUB.post("/v1/chat/completions", chat("slow one"))
        self.assertGreaterEqual(time.time() - started, 0.3)
        self.assertEqual(answer.status, 202)

    def test_unknown_path_and_unparsable_body(self):
        self.script(rules=[])
        answer = STUB.post("/v1/embeddings", chat("x"))
        self.assertEqual((answer.status, answer.json),
                         (404, {"error": {"message": "no such endpoint: /v1/embeddings"}}))
        answer = STUB.post("/v1/chat/completions", b"{not json")
        self.assertEqual((answer.status, answer.json), (400, {"error": {"message": "body is not JSON"}}))

    def test_request_log(self):
        self.script(rules=[{"match": "logged", "reply": "ok"}])
        before = time.time()
        STUB.post("/openai/deployments/d1/chat/completions?api-version=2024-10-21", chat("logged request"),
                  {"api-key": "secret-azure", "X-Title": "multidb"})
        STUB.post("/v1/chat/completions", chat("logged again"), {"Authorization": "Bearer sk-logged"})
        azure, bearer = STUB.requests()[-2:]
        self.assertEqual(azure["path"], "/openai/deployments/d1/chat/completions?api-version=2024-10-21")
        self.assertGreaterEqual(azure["at"], before - 1)
        self.assertLessEqual(azure["at"], bearer["at"])
        self.assertEqual(azure["headers"]["api-key"], "<set>")
        self.assertEqual(azure["headers"]["x-title"], "multidb")
        self.assertEqual(azure["auth"], "secret-azure")
        self.assertEqual(azure["body"]["messages"][-1]["content"], "logged request")
        self.assertEqual(bearer["headers"]["authorization"], "<set>")
        self.assertEqual(bearer["auth"], "Bearer sk-logged")

    def test_finish_shapes_without_profile(self):
        self.script(rules=[{"match": "cut", "reply": "abcdefgh", "finish": "length"},
                           {"match": "filtered", "reply": "x", "finish": "content_filter"},
                           {"match": "refused", "reply": "x", "finish": "refusal"}])
        choice = STUB.post("/v1/chat/completions", chat("cut")).json["choices"][0]
        self.assertEqual((choice["message"]["content"], choice["finish_reason"]), ("abcd", "length"))
        choice = STUB.post("/v1/chat/completions", chat("filtered")).json["choices"][0]
        self.assertEqual((choice["message"]["content"], choice["finish_reason"]), (None, "content_filter"))
        choice = STUB.post("/v1/chat/completions", chat("refused")).json["choices"][0]
        self.assertEqual((choice["message"]["content"], choice["message"]["refusal"], choice["finish_reason"]),
                         (None, REFUSAL_TEXT, "stop"))
        reply = STUB.post("/v1/messages", anthropic_chat("cut")).json
        self.assertEqual((reply["content"], reply["stop_reason"]), ([{"type": "text", "text": "abcd"}], "max_tokens"))
        reply = STUB.post("/v1/messages", anthropic_chat("refused")).json
        self.assertEqual((reply["content"], reply["stop_reason"]), ([], "refusal"))

    def test_fail_first_with_headers_then_reply(self):
        self.script(rules=[{"match": "flaky openai", "reply": "finally", "headers": {"x-stub": "normal"},
                            "fail_first": [{"status": 429, "headers": {"retry-after": "1", "x-should-retry": "true"}},
                                           {"status": 503, "headers": {"retry-after-ms": "250"}},
                                           {"status": 500, "body": "plain text failure"},
                                           {"status": 502, "body": {"error": {"message": "custom"}}}]}])
        first = STUB.post("/v1/chat/completions", chat("flaky openai"))
        self.assertEqual(first.status, 429)
        self.assertEqual((first.headers["retry-after"], first.headers["x-should-retry"]), ("1", "true"))
        self.assertNotIn("x-stub", first.headers)
        self.assertEqual(first.json, {"error": {"message": "Rate limit reached for requests", "type": "requests",
                                                "param": None, "code": "rate_limit_exceeded"}})
        second = STUB.post("/v1/chat/completions", chat("flaky openai"))
        self.assertEqual((second.status, second.headers["retry-after-ms"]), (503, "250"))
        self.assertEqual(second.json, {"error": {"message": "The server is overloaded or not ready yet.",
                                                 "type": "server_error"}})
        third = STUB.post("/v1/chat/completions", chat("flaky openai"))
        self.assertEqual((third.status, third.raw), (500, b"plain text failure"))
        fourth = STUB.post("/v1/chat/completions", chat("flaky openai"))
        self.assertEqual((fourth.status, fourth.json), (502, {"error": {"message": "custom"}}))
        # A rewritten script does not start the failures over.
        self.script(rules=[{"match": "flaky openai", "reply": "finally", "headers": {"x-stub": "normal"},
                            "fail_first": [{"status": 429}, {"status": 429}, {"status": 429}, {"status": 429}]}])
        fifth = STUB.post("/v1/chat/completions", chat("flaky openai"))
        self.assertEqual((fifth.status, fifth.headers["x-stub"]), (200, "normal"))
        self.assertEqual(self.content(fifth), "finally")

    def test_unknown_profile_is_reported(self):
        self.script(profile="opnai", rules=[])
        answer = STUB.post("/v1/chat/completions", chat("x"))
        self.assertEqual(answer.status, 500)
        self.assertIn("unknown profile 'opnai'", answer.json["error"]["message"])


class OpenAIProfile(StubTest):
    def setUp(self):
        self.script(profile="openai", rules=[{"match": "plan", "reply": "the plan"}])

    def post(self, body, headers=OPENAI_KEY, path="/v1/chat/completions"):
        return STUB.post(path, body, headers)

    def test_key_required(self):
        for headers in ({}, {"Authorization": "sk-no-bearer"}, {"x-api-key": "sk"}):
            answer = self.post(chat("plan"), headers)
            self.assertEqual((answer.status, answer.json), (401, {"error": {
                "message": "Incorrect API key provided", "type": "invalid_request_error", "param": None,
                "code": "invalid_api_key"}}))

    def test_invalid_messages(self):
        bad = [{"model": "gpt-4o"},
               {"model": "gpt-4o", "messages": []},
               {"model": "gpt-4o", "messages": "hi"},
               {"model": "gpt-4o", "messages": [{"role": "tool", "content": "plan"}]},
               {"model": "gpt-4o", "messages": [{"role": "user", "content": ""}]},
               {"model": "gpt-4o", "messages": [{"role": "user", "content": []}]},
               {"model": "gpt-4o", "messages": [{"role": "user"}]}]
        for body in bad:
            error = self.assertOpenAIError(self.post(body), 400, param="messages", code=None)
            self.assertEqual(error["type"], "invalid_request_error")

    def test_invalid_parameters(self):
        self.assertOpenAIError(self.post({"messages": [{"role": "user", "content": "plan"}]}), 400,
                               "you must provide a model parameter")
        self.assertOpenAIError(self.post(chat("plan", temperature=2.5)), 400, param="temperature",
                               code="decimal_above_max_value")
        self.assertOpenAIError(self.post(chat("plan", max_tokens=0)), 400, param="max_tokens")
        self.assertOpenAIError(self.post(chat("plan", response_format={"type": "xml"})), 400,
                               param="response_format.type")
        self.assertOpenAIError(self.post(chat("plan", response_format={"type": "json_schema",
                                                                       "json_schema": {"schema": {}}})), 400,
                               param="response_format.json_schema.name")
        self.assertOpenAIError(self.post(chat("plan", response_format={"type": "json_object"})), 400,
                               "'messages' must contain the word 'json' in some form, to use 'response_format' "
                               "of type 'json_object'.", param="messages")
        self.assertOpenAIError(self.post(chat("plan"), path="/v1/completions"), 404,
                               "Invalid URL (POST /v1/completions)")

    def test_accepted_reply_shape(self):
        body = chat("plan as json", max_tokens=50, temperature=0, response_format={"type": "json_object"})
        body["messages"].insert(1, {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]})
        answer = self.post(body)
        self.assertEqual(answer.status, 200, answer.raw)
        reply = answer.json
        self.assertTrue(reply["id"].startswith("chatcmpl-"))
        self.assertEqual(reply["object"], "chat.completion")
        self.assertIsInstance(reply["created"], int)
        self.assertEqual(reply["model"], "gpt-4o")
        self.assertEqual(reply["choices"][0]["message"], {"role": "assistant", "content": "the plan", "refusal": None})
        self.assertEqual(reply["choices"][0]["finish_reason"], "stop")
        usage = reply["usage"]
        self.assertEqual(usage["total_tokens"], usage["prompt_tokens"] + usage["completion_tokens"])
        schema = {"type": "json_schema", "json_schema": {"name": "plan", "strict": True, "schema": {"type": "object"}}}
        self.assertEqual(self.content(self.post(chat("plan", max_completion_tokens=50, response_format=schema))),
                         "the plan")

    def test_finish_shapes(self):
        self.script(profile="openai", rules=[{"match": "cut", "reply": "0123456789", "finish": "length"},
                                             {"match": "filtered", "reply": "x", "finish": "content_filter"},
                                             {"match": "refused", "reply": "x", "finish": "refusal"}])
        choice = self.post(chat("cut")).json["choices"][0]
        self.assertEqual((choice["message"]["content"], choice["finish_reason"]), ("01234", "length"))
        choice = self.post(chat("filtered")).json["choices"][0]
        self.assertEqual((choice["message"]["content"], choice["finish_reason"]), (None, "content_filter"))
        choice = self.post(chat("refused")).json["choices"][0]
        self.assertEqual(choice["message"], {"role": "assistant", "content": None, "refusal": REFUSAL_TEXT})
        self.assertEqual(choice["finish_reason"], "stop")

    def test_rule_profile_overrides_script_profile(self):
        self.script(profile="anthropic", rules=[{"match": "plan", "reply": "the plan", "profile": "openai"}])
        self.assertEqual(self.content(self.post(chat("plan"))), "the plan")


class OpenAIReasoningProfile(StubTest):
    def setUp(self):
        self.script(profile="openai_reasoning", rules=[{"match": "plan", "reply": "the plan"}])

    def test_max_tokens_refused(self):
        answer = STUB.post("/v1/chat/completions", chat("plan", model="o3", max_tokens=100), OPENAI_KEY)
        self.assertEqual((answer.status, answer.json), (400, {"error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                       "'max_completion_tokens' instead.",
            "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}))

    def test_temperature_refused_with_its_value(self):
        for value in (0, 0.2):
            answer = STUB.post("/v1/chat/completions", chat("plan", model="o3", temperature=value), OPENAI_KEY)
            self.assertEqual((answer.status, answer.json), (400, {"error": {
                "message": "Unsupported value: 'temperature' does not support %s with this model. Only the "
                           "default (1) value is supported." % value,
                "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}}))

    def test_accepted_with_reasoning_tokens(self):
        answer = STUB.post("/v1/chat/completions",
                           chat("plan", model="gpt-5", max_completion_tokens=100, temperature=1), OPENAI_KEY)
        self.assertEqual(self.content(answer), "the plan")
        usage = answer.json["usage"]
        self.assertGreater(usage["completion_tokens_details"]["reasoning_tokens"], 0)
        self.assertEqual(usage["total_tokens"], usage["prompt_tokens"] + usage["completion_tokens"])


class AzureProfiles(StubTest):
    CLASSIC = "/openai/deployments/my-gpt4o/chat/completions"

    def test_classic_refusals(self):
        self.script(profile="azure_classic", rules=[{"match": "plan", "reply": "the plan"}])
        for path in (self.CLASSIC, "/openai/v1/chat/completions?api-version=2024-10-21",
                     "/openai/deployments/chat/completions?api-version=2024-10-21"):
            answer = STUB.post(path, chat("plan"), {"api-key": "k"})
            self.assertEqual((answer.status, answer.json), (404, {"error": {"code": "404",
                                                                             "message": "Resource not found"}}))
        refused = {"error": {"code": "401", "message": (
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
            "for an active subscription and use a correct regional API endpoint for your resource.")}}
        for headers in ({}, {"Authorization": "Bearer k"}):
            answer = STUB.post(self.CLASSIC + "?api-version=2024-10-21", chat("plan"), headers)
            self.assertEqual((answer.status, answer.json), (401, refused))

    def test_classic_accepted_with_dated_model(self):
        self.script(profile="azure_classic", rules=[{"match": "plan", "reply": "the plan"}])
        body = chat("plan")
        del body["model"]
        answer = STUB.post(self.CLASSIC + "?api-version=2024-10-21", body, {"api-key": "k"})
        self.assertEqual(self.content(answer), "the plan")
        self.assertEqual(answer.json["model"], "gpt-4o-2024-08-06")
        self.assertNotEqual(answer.json["model"], "my-gpt4o")
        self.assertFalse(answer.json["choices"][0]["content_filter_results"]["violence"]["filtered"])
        self.assertEqual(STUB.requests()[-1]["path"], self.CLASSIC + "?api-version=2024-10-21")
        # Messages are checked as OpenAI checks them.
        answer = STUB.post(self.CLASSIC + "?api-version=2024-10-21", {"messages": []}, {"api-key": "k"})
        self.assertOpenAIError(answer, 400, param="messages")

    def test_v1(self):
        self.script(profile="azure_v1", rules=[{"match": "plan", "reply": "the plan"}])
        path = "/openai/v1/chat/completions"
        self.assertEqual(STUB.post(self.CLASSIC + "?api-version=x", chat("plan"), OPENAI_KEY).status, 404)
        self.assertEqual(STUB.post(path, chat("plan"), {}).json["error"]["code"], "401")
        body = chat("plan")
        del body["model"]
        self.assertOpenAIError(STUB.post(path, body, {"api-key": "k"}), 400, "you must provide a model parameter")
        for headers in (OPENAI_KEY, {"api-key": "k"}):
            answer = STUB.post(path, chat("plan", model="gpt-4o-mini-deployment"), headers)
            self.assertEqual(self.content(answer), "the plan")
            self.assertEqual(answer.json["model"], "gpt-4o-mini-2024-07-18")
        answer = STUB.post(path, chat("plan", model="gpt-4o-2024-08-06"), OPENAI_KEY)
        self.assertNotEqual(answer.json["model"], "gpt-4o-2024-08-06")


class AnthropicProfile(StubTest):
    def setUp(self):
        self.script(profile="anthropic", rules=[{"match": "plan", "reply": "the plan"}])

    def post(self, body, headers=ANTHROPIC_HEADERS):
        return STUB.post("/v1/messages", body, headers)

    def test_headers_required(self):
        answer = self.post(anthropic_chat("plan"), {"anthropic-version": "2023-06-01", "Authorization": "Bearer k"})
        self.assertAnthropicError(answer, 401, "authentication_error", "invalid x-api-key")
        answer = self.post(anthropic_chat("plan"), {"x-api-key": "k"})
        self.assertAnthropicError(answer, 400, "invalid_request_error", "anthropic-version: header is required")

    def test_body_refusals(self):
        body = anthropic_chat("plan")
        del body["max_tokens"]
        self.assertAnthropicError(self.post(body), 400, "invalid_request_error", "max_tokens: Field required")
        body = anthropic_chat("plan")
        body["messages"].insert(0, {"role": "system", "content": "rules"})
        answer = self.post(body)
        self.assertEqual(answer.status, 400)
        self.assertEqual(answer.json["error"], {"type": "invalid_request_error", "message": (
            'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not '
            '"system" as an input message role.')})
        self.assertTrue(answer.json["request_id"].startswith("req_"))
        body = anthropic_chat("plan")
        body["messages"] = [{"role": "user", "content": "plan"}, {"role": "assistant", "content": ""},
                            {"role": "user", "content": "again"}]
        self.assertAnthropicError(self.post(body), 400, "invalid_request_error",
                                  "messages.1: all messages must have non-empty content except for the optional "
                                  "final assistant message")
        body["messages"] = [{"role": "assistant", "content": "hello"}, {"role": "user", "content": "plan"}]
        self.assertAnthropicError(self.post(body), 400, "invalid_request_error",
                                  'messages: first message must use the "user" role')
        body["messages"] = [{"role": "user", "content": "a"}, {"role": "user", "content": "plan"}]
        self.assertAnthropicError(self.post(body), 400, "invalid_request_error")
        self.assertAnthropicError(self.post(anthropic_chat("plan", temperature=1.5)), 400, "invalid_request_error",
                                  "temperature: Input should be less than or equal to 1")
        self.assertAnthropicError(self.post(anthropic_chat("plan", system={"text": "x"})), 400,
                                  "invalid_request_error")
        self.assertAnthropicError(STUB.post("/v1/complete", anthropic_chat("plan"), ANTHROPIC_HEADERS), 404,
                                  "not_found_error")

    def test_accepted_reply_shape(self):
        body = anthropic_chat("plan", temperature=0.5, system=[{"type": "text", "text": "rules"}])
        body["messages"] += [{"role": "assistant", "content": "{"}]  # a prefilled final assistant turn
        answer = self.post(body)
        self.assertEqual(answer.status, 200, answer.raw)
        reply = answer.json
        self.assertTrue(reply["id"].startswith("msg_"))
        self.assertEqual({k: v for k, v in reply.items() if k not in ("id", "usage")}, {
            "type": "message", "role": "assistant", "model": "claude-test",
            "content": [{"type": "text", "text": "the plan"}], "stop_reason": "end_turn", "stop_sequence": None})
        self.assertEqual(set(reply["usage"]), {"input_tokens", "output_tokens"})

    def test_finish_shapes(self):
        self.script(profile="anthropic", rules=[{"match": "cut", "reply": "0123456789", "finish": "length"},
                                                {"match": "refused", "reply": "x", "finish": "refusal"}])
        reply = self.post(anthropic_chat("cut")).json
        self.assertEqual((reply["content"], reply["stop_reason"]), ([{"type": "text", "text": "01234"}], "max_tokens"))
        reply = self.post(anthropic_chat("refused")).json
        self.assertEqual((reply["content"], reply["stop_reason"]), ([], "refusal"))

    def test_fail_first_anthropic_shapes(self):
        self.script(profile="anthropic", rules=[{"match": "flaky claude", "reply": "done",
                                                 "fail_first": [{"status": 529, "headers": {"x-should-retry": "true"}},
                                                                {"status": 429, "headers": {"retry-after": "2"}}]}])
        first = self.post(anthropic_chat("flaky claude"))
        self.assertAnthropicError(first, 529, "overloaded_error", "Overloaded")
        self.assertEqual(first.headers["x-should-retry"], "true")
        second = self.post(anthropic_chat("flaky claude"))
        self.assertAnthropicError(second, 429, "rate_limit_error")
        self.assertEqual(second.headers["retry-after"], "2")
        self.assertEqual(self.post(anthropic_chat("flaky claude")).json["content"][0]["text"], "done")

    def test_no_temperature_variant(self):
        self.script(profile="anthropic_no_temperature",
                    rules=[{"match": "plan", "reply": "the plan"},
                           {"match": "own draft", "reply": "final", "draft": "thinking it over"}])
        self.assertAnthropicError(self.post(anthropic_chat("plan", temperature=0)), 400, "invalid_request_error",
                                  "temperature is not supported for this model")
        content = self.post(anthropic_chat("plan")).json["content"]
        self.assertEqual([block["type"] for block in content], ["thinking", "text"])
        self.assertEqual(content[0]["thinking"], DEFAULT_DRAFT)
        self.assertIn(WRONG_DRAFT_PLAN, content[0]["thinking"])
        self.assertTrue(content[0]["signature"])
        self.assertEqual(content[1], {"type": "text", "text": "the plan"})
        self.assertEqual(self.post(anthropic_chat("own draft")).json["content"][0]["thinking"], "thinking it over")


class ThinkingProfiles(StubTest):
    RULES = [{"match": "own draft", "reply": "final", "draft": "my reasoning"}, {"match": "plan", "reply": "the plan"}]

    def test_ollama_think(self):
        self.script(profile="ollama_think", rules=self.RULES)
        content = self.content(STUB.post("/v1/chat/completions", chat("plan", model="qwen3")))  # no key needed
        self.assertEqual(content, "<think>\n" + DEFAULT_DRAFT + "\n</think>\n\nthe plan")
        self.assertIn('{"queries":[{"database":"production","sql":"SELECT \'draft\' AS wrong"}]}', content)
        self.assertEqual(self.content(STUB.post("/v1/chat/completions", chat("own draft"))),
                         "<think>\nmy reasoning\n</think>\n\nfinal")
        self.assertOpenAIError(STUB.post("/v1/chat/completions", {"model": "qwen3", "messages": []}), 400)

    def test_vllm_think(self):
        self.script(profile="vllm_think", rules=self.RULES)
        message = STUB.post("/v1/chat/completions", chat("own draft")).json["choices"][0]["message"]
        self.assertEqual(message, {"role": "assistant", "reasoning_content": "my reasoning", "content": "final"})
        answer = STUB.post("/v1/chat/completions", {"model": "m"})
        self.assertEqual((answer.status, answer.json["error"]["type"], answer.json["error"]["code"]),
                         (400, "BadRequestError", 400))

    def test_think_unopened(self):
        self.script(profile="think_unopened", rules=self.RULES)
        self.assertEqual(self.content(STUB.post("/v1/chat/completions", chat("own draft"))),
                         "my reasoning\n</think>\n\nfinal")
        content = self.content(STUB.post("/v1/chat/completions", chat("plan")))
        self.assertNotIn("<think>", content)
        self.assertTrue(content.endswith("\n</think>\n\nthe plan"))
        self.assertEqual(STUB.post("/v1/chat/completions", {"model": "m", "messages": [{"role": "x"}]}).status, 400)

    def test_mistral(self):
        self.script(profile="mistral", rules=self.RULES)
        answer = STUB.post("/v1/chat/completions", chat("own draft", model="magistral-medium-latest"), OPENAI_KEY)
        self.assertEqual(self.content(answer),
                         [{"type": "thinking", "thinking": [{"type": "text", "text": "my reasoning"}]},
                          {"type": "text", "text": "final"}])
        self.assertEqual(STUB.post("/v1/chat/completions", chat("plan"), {}).status, 401)
        body = chat("plan")
        body["messages"].append({"role": "assistant", "content": "{"})
        answer = STUB.post("/v1/chat/completions", body, OPENAI_KEY)
        self.assertEqual(answer.status, 400)
        self.assertEqual(answer.json["object"], "error")
        self.assertEqual(answer.json["message"], "Expected last role User or Tool (or Assistant with prefix True) "
                                                 "for serving but got assistant")
        body["messages"][-1]["prefix"] = True
        self.assertEqual(STUB.post("/v1/chat/completions", body, OPENAI_KEY).status, 200)


class LocalServerProfiles(StubTest):
    def test_llamacpp_template_refusals(self):
        self.script(profile="llamacpp", rules=[{"match": "plan", "reply": "the plan"}])
        alternate = {"error": {"code": 500, "message": "Conversation roles must alternate "
                                                       "user/assistant/user/assistant/...", "type": "server_error"}}
        system, user, assistant = ({"role": role, "content": role + " text plan"}
                                   for role in ("system", "user", "assistant"))
        for messages in ([user, system], [system, system, user], [system, user, user], [assistant, user],
                         [system, user, assistant, assistant, user]):
            answer = STUB.post("/v1/chat/completions", {"messages": messages})
            self.assertEqual((answer.status, answer.json), (500, alternate), messages)
        answer = STUB.post("/v1/chat/completions", {"messages": [system, user], "response_format": {"type": "xml"}})
        self.assertEqual((answer.status, answer.json["error"]["type"]), (400, "invalid_request_error"))

    def test_llamacpp_accepts(self):
        self.script(profile="llamacpp", rules=[{"match": "plan", "reply": "the plan"}])
        messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a"}, {"role": "user", "content": "plan"}]
        for response_format in ({"type": "json_object"},
                                {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object"}}}):
            answer = STUB.post("/v1/chat/completions", {"messages": messages, "response_format": response_format})
            self.assertEqual(self.content(answer), "the plan")

    def test_lmstudio(self):
        self.script(profile="lmstudio", rules=[{"match": "plan", "reply": "the plan"}])
        answer = STUB.post("/v1/chat/completions", chat("plan json", response_format={"type": "json_object"}))
        self.assertEqual((answer.status, answer.json),
                         (400, {"error": "'response_format.type' must be 'json_schema' or 'text'"}))
        for schema in ({"name": "p"}, {"name": "p", "schema": "object"}, None):
            answer = STUB.post("/v1/chat/completions",
                               chat("plan", response_format={"type": "json_schema", "json_schema": schema}))
            self.assertEqual(answer.status, 400)
            self.assertIsInstance(answer.json["error"], str)
        schema = {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object"}}}
        self.assertEqual(self.content(STUB.post("/v1/chat/completions", chat("plan", response_format=schema))),
                         "the plan")
        self.assertEqual(self.content(STUB.post("/v1/chat/completions",
                                                chat("plan", response_format={"type": "text"}))), "the plan")


class HostedCompatibleProfiles(StubTest):
    def test_openrouter_error_in_200(self):
        self.script(profile="openrouter", rules=[{"match": "routed", "reply": "the plan", "error_in_200": 2}])
        headers = {**OPENAI_KEY, "HTTP-Referer": "https://multidb.example", "X-Title": "multidb"}
        in_200 = {"error": {"code": 502, "message": "Provider returned error", "metadata": {"provider_name": "stub"}}}
        for _ in range(2):
            answer = STUB.post("/api/v1/chat/completions", chat("routed"), headers)
            self.assertEqual((answer.status, answer.json), (200, in_200))
        self.assertEqual(self.content(STUB.post("/api/v1/chat/completions", chat("routed"), headers)), "the plan")
        logged = STUB.requests()[-1]["headers"]
        self.assertEqual((logged["http-referer"], logged["x-title"]), ("https://multidb.example", "multidb"))
        answer = STUB.post("/api/v1/chat/completions", chat("routed"), {})
        self.assertEqual((answer.status, answer.json), (401, {"error": {"code": 401,
                                                                         "message": "No auth credentials found"}}))

    def test_deepseek_blank_lines_before_body(self):
        self.script(profile="deepseek", rules=[{"match": "plan", "reply": "the plan"}])
        answer = STUB.post("/chat/completions", chat("plan", model="deepseek-chat"), OPENAI_KEY)
        self.assertEqual(answer.status, 200)
        self.assertTrue(answer.raw.startswith(b"\n\n\n{"))
        self.assertEqual(int(answer.headers["content-length"]), len(answer.raw))
        self.assertEqual(answer.json["choices"][0]["message"]["content"], "the plan")
        reasoner = STUB.post("/chat/completions", chat("plan", model="deepseek-reasoner"), OPENAI_KEY).json
        self.assertEqual(reasoner["choices"][0]["message"]["reasoning_content"], DEFAULT_DRAFT)
        answer = STUB.post("/chat/completions", chat("plan"), {})
        self.assertEqual((answer.status, answer.json["error"]["type"]), (401, "authentication_error"))

    def test_gemini(self):
        self.script(profile="gemini", rules=[{"match": "plan", "reply": "the plan"},
                                             {"match": "bad", "gemini_error": "API key expired. Please renew."}])
        path = "/v1beta/openai/chat/completions"
        self.assertEqual(self.content(STUB.post(path, chat("plan", model="gemini-2.5-flash"), OPENAI_KEY)),
                         "the plan")
        answer = STUB.post(path, chat("bad"), OPENAI_KEY)
        self.assertEqual((answer.status, answer.json), (400, [{"error": {
            "code": 400, "message": "API key expired. Please renew.", "status": "INVALID_ARGUMENT"}}]))
        answer = STUB.post(path, {"model": "gemini-2.5-flash"}, OPENAI_KEY)
        self.assertEqual(answer.status, 400)
        self.assertEqual(answer.json[0]["error"]["status"], "INVALID_ARGUMENT")
        answer = STUB.post("/v1/chat/completions", chat("plan"), OPENAI_KEY)
        self.assertEqual((answer.status, answer.json[0]["error"]["status"]), (404, "NOT_FOUND"))
        self.assertEqual(STUB.post(path, chat("plan"), {}).json[0]["error"]["code"], 401)


if __name__ == "__main__":
    unittest.main()
