"""Provider profiles for llm_stub.py: how each real LLM service checks a chat request and words its answer
(status codes, error bodies, reply JSON), after the providers' published API documentation. Error messages are
the providers' own where their documentation gives them, paraphrased where it does not.

A profile is asked three things: check(request) raises Rejection when that provider would refuse the request;
reply(request, rule) is the provider's JSON for the rule's scripted text; failure_body(request, status) is what
that provider sends with a failure status (used for scripted failures that bring no body of their own).
"""
import base64
import json
import re
import secrets
import time
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

REFUSAL_TEXT = "I'm sorry, I can't help with that."

# Reasoning shown before the answer must never be taken for the answer, so the default draft holds a plan that
# parses but is wrong: a client that reads it instead of the final text fails visibly.
WRONG_DRAFT_PLAN = '{"queries":[{"database":"production","sql":"SELECT \'draft\' AS wrong"}]}'
DEFAULT_DRAFT = ("The user wants a plan. A first attempt:\n" + WRONG_DRAFT_PLAN +
                 "\nNo, that is not right yet; let me reconsider before answering.")


class Rejection(Exception):
    """An answer that ends a request before the scripted reply: the provider refused it, or the script asked
    for a failure. body is JSON-able, or a str/bytes sent as it is."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class ChatRequest:
    """What a profile may look at: the path without its query, the query, the headers (case-insensitive, as
    http.server gives them) and the decoded JSON body."""

    def __init__(self, raw_path, headers, payload):
        parts = urlsplit(raw_path)
        self.raw_path = raw_path
        self.path = parts.path
        self.query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        self.headers = headers
        self.payload = payload

    def header(self, name):
        return (self.headers.get(name) or "").strip()

    def bearer_key(self):
        value = self.header("Authorization")
        return value[len("Bearer "):].strip() if value.startswith("Bearer ") else ""

    def field(self, name, default=None):
        return self.payload.get(name, default) if isinstance(self.payload, dict) else default


def scripted_outcome(rule):
    """(answer text or None, finish) for a rule: "finish": "length" keeps the first half of the text (a reply
    cut at the token limit); "content_filter" and "refusal" leave no text."""
    text = rule.get("reply", "")
    finish = rule.get("finish") or "stop"
    if finish == "length":
        text = text[:len(text) // 2]
    if finish in ("content_filter", "refusal"):
        text = None
    return text, finish


def prompt_tokens(payload):
    return len(json.dumps(payload)) // 4


def text_tokens(text):
    return len(text or "") // 4


def json_type_name(value):
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "an array", dict: "an object", type(None): "null"}[type(value)]


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_count(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_non_empty_content(content):
    if isinstance(content, str):
        return content != ""
    return (isinstance(content, list) and len(content) > 0 and
            all(isinstance(part, dict) and isinstance(part.get("type"), str) for part in content))


def content_text(content):
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    texts = (part.get("text") for part in parts if isinstance(part, dict))
    return "".join(text for text in texts if isinstance(text, str))


def random_id(prefix):
    return prefix + secrets.token_hex(12)


def status_phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # 529 and other statuses the standard library does not name
        return "Error"


class Profile:
    """What every profile offers; the subclasses are the providers."""

    name = ""
    body_prefix = b""  # bytes a provider sends before a successful reply's JSON

    def check(self, request):
        pass

    def reply(self, request, rule):
        raise NotImplementedError

    def error_body(self, status, message=None, **details):
        raise NotImplementedError

    def failure_body(self, request, status):
        return self.error_body(status)

    def error_in_200_body(self):
        """OpenRouter's way of failing after it has sent the 200 status (the upstream provider failed)."""
        return {"error": {"code": 502, "message": "Provider returned error", "metadata": {"provider_name": "stub"}}}

    def reject(self, status, message=None, **details):
        raise Rejection(status, self.error_body(status, message, **details))


# ---------------------------------------------------------------------------------------------------- OpenAI

OPENAI_ERRORS = {
    400: {"message": "Bad request", "type": "invalid_request_error", "param": None, "code": None},
    401: {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": None,
          "code": "invalid_api_key"},
    403: {"message": "You are not allowed to sample from this model", "type": "invalid_request_error",
          "param": None, "code": None},
    404: {"message": "The model does not exist or you do not have access to it.", "type": "invalid_request_error",
          "param": None, "code": "model_not_found"},
    429: {"message": "Rate limit reached for requests", "type": "requests", "param": None,
          "code": "rate_limit_exceeded"},
    500: {"message": "The server had an error while processing your request. Sorry about that!",
          "type": "server_error", "param": None, "code": None},
    503: {"message": "The server is overloaded or not ready yet.", "type": "server_error"},
}


def openai_error(status, message=None, **details):
    known = OPENAI_ERRORS.get(status) or OPENAI_ERRORS[400 if status < 500 else 500]
    error = dict(known)
    if message is not None:
        error["message"] = message
    error.update(details)
    return {"error": error}


class OpenAIChat(Profile):
    """api.openai.com /v1/chat/completions."""

    name = "openai"
    needs_key = True
    model_required = True
    roles = ("system", "developer", "user", "assistant")
    max_temperature = 2
    # OpenAI refuses json_object unless the conversation says "json": the model would otherwise emit
    # whitespace until the token limit.
    json_word_required = True
    default_model = "stub"

    def check(self, request):
        self.check_path(request)
        self.check_key(request)
        if not isinstance(request.payload, dict):
            self.reject(400, "Invalid type for the request body: expected an object, but got %s instead."
                        % json_type_name(request.payload), param=None, code="invalid_type")
        payload = request.payload
        self.check_model(payload)
        self.check_messages(payload)
        self.check_token_limit(payload)
        self.check_temperature(payload)
        self.check_response_format(payload)
        self.check_conversation(payload["messages"])

    def check_path(self, request):
        if not request.path.endswith("/chat/completions"):
            self.reject(404, "Invalid URL (POST %s)" % request.path, param=None, code=None)

    def check_key(self, request):
        if self.needs_key and not request.bearer_key():
            self.reject(401)

    def check_model(self, payload):
        model = payload.get("model")
        if self.model_required and not (isinstance(model, str) and model):
            self.reject(400, "you must provide a model parameter", param=None, code=None)

    def reject_messages(self, message):
        self.reject(400, message, param="messages", code=None)

    def check_messages(self, payload):
        messages = payload.get("messages")
        if messages is None:
            self.reject_messages("Missing required parameter: 'messages'.")
        if not isinstance(messages, list):
            self.reject_messages("Invalid type for 'messages': expected an array, but got %s instead."
                                 % json_type_name(messages))
        if not messages:
            self.reject_messages("Invalid 'messages': empty array. Expected an array with minimum length 1, "
                                 "but got an empty array instead.")
        supported = ", ".join("'%s'" % role for role in self.roles)
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                self.reject_messages("Invalid type for 'messages[%d]': expected an object, but got %s instead."
                                     % (index, json_type_name(message)))
            if message.get("role") not in self.roles:
                self.reject_messages("Invalid value for 'messages[%d].role': %s. Supported values are: %s."
                                     % (index, json.dumps(message.get("role")), supported))
            if not is_non_empty_content(message.get("content")):
                self.reject_messages("Invalid 'messages[%d].content': expected a non-empty string or a "
                                     "non-empty array of content parts." % index)

    def check_count(self, payload, name):
        value = payload.get(name)
        if value is None:
            return
        if not is_count(value):
            self.reject(400, "Invalid type for '%s': expected an integer, but got %s instead."
                        % (name, json_type_name(value)), param=name, code="invalid_type")
        if value < 1:
            self.reject(400, "Invalid '%s': integer below minimum value. Expected a value >= 1, but got %d "
                        "instead." % (name, value), param=name, code="integer_below_min_value")

    def check_token_limit(self, payload):
        self.check_count(payload, "max_tokens")
        self.check_count(payload, "max_completion_tokens")

    def check_temperature(self, payload):
        value = payload.get("temperature")
        if value is None:
            return
        if not is_number(value):
            self.reject(400, "Invalid type for 'temperature': expected a decimal, but got %s instead."
                        % json_type_name(value), param="temperature", code="invalid_type")
        if value > self.max_temperature:
            self.reject(400, "Invalid 'temperature': decimal above maximum value. Expected a value <= %s, but got "
                        "%s instead." % (self.max_temperature, json.dumps(value)),
                        param="temperature", code="decimal_above_max_value")
        if value < 0:
            self.reject(400, "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got "
                        "%s instead." % json.dumps(value), param="temperature", code="decimal_below_min_value")

    def check_response_format(self, payload):
        response_format = payload.get("response_format")
        if response_format is None:
            return
        if not isinstance(response_format, dict):
            self.reject(400, "Invalid type for 'response_format': expected an object, but got %s instead."
                        % json_type_name(response_format), param="response_format", code="invalid_type")
        kind = response_format.get("type")
        if kind not in ("text", "json_object", "json_schema"):
            self.reject(400, "Invalid value: %s. Supported values are: 'json_object', 'json_schema', and 'text'."
                        % json.dumps(kind), param="response_format.type", code="invalid_value")
        if kind == "json_schema":
            schema = response_format.get("json_schema")
            if not isinstance(schema, dict):
                self.reject(400, "Missing required parameter: 'response_format.json_schema'.",
                            param="response_format.json_schema", code="missing_required_parameter")
            if not (isinstance(schema.get("name"), str) and schema["name"]):
                self.reject(400, "Missing required parameter: 'response_format.json_schema.name'.",
                            param="response_format.json_schema.name", code="missing_required_parameter")
            if "schema" in schema and not isinstance(schema["schema"], dict):
                self.reject(400, "Invalid type for 'response_format.json_schema.schema': expected an object, but "
                            "got %s instead." % json_type_name(schema["schema"]),
                            param="response_format.json_schema.schema", code="invalid_type")
        if kind == "json_object" and self.json_word_required:
            said = " ".join(content_text(m.get("content")) for m in payload["messages"]).lower()
            if "json" not in said:
                self.reject_messages("'messages' must contain the word 'json' in some form, to use "
                                     "'response_format' of type 'json_object'.")

    def check_conversation(self, messages):
        """Rules about the order of turns; OpenAI has none."""

    def error_body(self, status, message=None, **details):
        return openai_error(status, message, **details)

    def served_model(self, request):
        return request.field("model") or self.default_model

    def assistant_message(self, text, finish, draft, request):
        return {"role": "assistant", "content": text, "refusal": REFUSAL_TEXT if finish == "refusal" else None}

    def reasoning_tokens(self, draft):
        return 0

    def usage(self, request, text, draft):
        prompt = prompt_tokens(request.payload)
        completion = text_tokens(text) + self.reasoning_tokens(draft)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def reply(self, request, rule):
        text, finish = scripted_outcome(rule)
        draft = rule.get("draft", DEFAULT_DRAFT)
        return {"id": random_id("chatcmpl-"), "object": "chat.completion", "created": int(time.time()),
                "model": self.served_model(request),
                "choices": [{"index": 0, "message": self.assistant_message(text, finish, draft, request),
                             "logprobs": None, "finish_reason": "stop" if finish == "refusal" else finish}],
                "usage": self.usage(request, text, draft)}


class OpenAIReasoning(OpenAIChat):
    """OpenAI's reasoning models (o-series, gpt-5): no max_tokens, temperature only at its default, and the
    hidden reasoning billed as completion tokens."""

    name = "openai_reasoning"

    def check_token_limit(self, payload):
        if payload.get("max_tokens") is not None:
            self.reject(400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                        "'max_completion_tokens' instead.", param="max_tokens", code="unsupported_parameter")
        super().check_token_limit(payload)

    def check_temperature(self, payload):
        value = payload.get("temperature")
        if value is not None and not (is_number(value) and value == 1):
            self.reject(400, "Unsupported value: 'temperature' does not support %s with this model. Only the "
                        "default (1) value is supported." % json.dumps(value),
                        param="temperature", code="unsupported_value")

    def reasoning_tokens(self, draft):
        return max(1, text_tokens(draft))

    def usage(self, request, text, draft):
        usage = super().usage(request, text, draft)
        usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens(draft)}
        return usage


# ----------------------------------------------------------------------------------------------------- Azure

AZURE_DEPLOYMENT_PATH = re.compile(r"^/openai/deployments/([^/]+)/chat/completions$")
AZURE_KEY_REFUSED = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
                     "a valid key for an active subscription and use a correct regional API endpoint for your "
                     "resource.")
AZURE_GATEWAY_ERRORS = {
    401: AZURE_KEY_REFUSED,
    404: "Resource not found",
    429: ("Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have "
          "exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second. Please "
          "go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."),
    500: "The server had an error processing your request. Sorry about that! You can retry your request.",
    503: "The service is temporarily unable to process your request. Please try again later.",
}
# Azure answers with the model version behind a deployment, never the deployment's own name.
DATED_MODELS = [("gpt-4o-mini", "gpt-4o-mini-2024-07-18"), ("gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"),
                ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"), ("gpt-4.1", "gpt-4.1-2025-04-14"),
                ("gpt-4o", "gpt-4o-2024-08-06"), ("gpt-5-mini", "gpt-5-mini-2025-08-07"),
                ("gpt-5", "gpt-5-2025-08-07"), ("o4-mini", "o4-mini-2025-04-16"), ("o3", "o3-2025-04-16")]
AZURE_FILTER_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def dated_model(requested):
    requested = (requested or "").lower()
    for family, dated in DATED_MODELS:
        if family in requested and dated != requested:
            return dated
    return "gpt-4o-2024-08-06" if requested != "gpt-4o-2024-08-06" else "gpt-4o-2024-11-20"


def azure_filter_results(filtered):
    results = {category: {"filtered": False, "severity": "safe"} for category in AZURE_FILTER_CATEGORIES}
    if filtered:
        results["violence"] = {"filtered": True, "severity": "high"}
    return results


class AzureClassic(OpenAIChat):
    """Azure OpenAI's deployment API: /openai/deployments/<deployment>/chat/completions?api-version=…, the key
    in an api-key header, the deployment in the path standing for the model."""

    name = "azure_classic"
    model_required = False

    def check_path(self, request):
        if not AZURE_DEPLOYMENT_PATH.match(request.path) or not request.query.get("api-version"):
            self.reject(404)

    def check_key(self, request):
        if not request.header("api-key"):
            self.reject(401)

    def error_body(self, status, message=None, **details):
        # Azure's gateway answers these itself, in its own shape; the rest come from the OpenAI service behind.
        if status in AZURE_GATEWAY_ERRORS:
            return {"error": {"code": str(status), "message": message or AZURE_GATEWAY_ERRORS[status]}}
        return openai_error(status, message, **details)

    def served_model(self, request):
        return dated_model(AZURE_DEPLOYMENT_PATH.match(request.path).group(1))

    def reply(self, request, rule):
        body = super().reply(request, rule)
        body["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": azure_filter_results(False)}]
        body["choices"][0]["content_filter_results"] = azure_filter_results(rule.get("finish") == "content_filter")
        return body


class AzureV1(AzureClassic):
    """Azure OpenAI's v1 API: /openai/v1/chat/completions, the key as a bearer token or in api-key, the
    deployment named in "model"."""

    name = "azure_v1"
    model_required = True

    def check_path(self, request):
        if request.path.rstrip("/") != "/openai/v1/chat/completions":
            self.reject(404)

    def check_key(self, request):
        if not (request.bearer_key() or request.header("api-key")):
            self.reject(401)

    def served_model(self, request):
        return dated_model(request.field("model"))


# ------------------------------------------------------------------------------------------------- Anthropic

ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not Found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}
ANTHROPIC_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "content_filter": "refusal",
                          "refusal": "refusal"}
ANTHROPIC_SYSTEM_ROLE = ('messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                         'parameter, not "system" as an input message role.')


def anthropic_error(status, message=None):
    kind, default_message = ANTHROPIC_ERRORS.get(status) or ANTHROPIC_ERRORS[400 if status < 500 else 500]
    return {"type": "error", "error": {"type": kind, "message": message or default_message},
            "request_id": random_id("req_")}


class Anthropic(Profile):
    """api.anthropic.com /v1/messages."""

    name = "anthropic"

    def check(self, request):
        if not request.path.endswith("/v1/messages"):
            self.reject(404)
        if not request.header("x-api-key"):
            self.reject(401)
        if not request.header("anthropic-version"):
            self.reject(400, "anthropic-version: header is required")
        payload = request.payload
        if not isinstance(payload, dict):
            self.reject(400, "Input should be a valid dictionary")
        if not (isinstance(payload.get("model"), str) and payload["model"]):
            self.reject(400, "model: Field required")
        self.check_max_tokens(payload.get("max_tokens"))
        system = payload.get("system")
        if system is not None and not isinstance(system, (str, list)):
            self.reject(400, "system: Input should be a valid list")
        self.check_messages(payload.get("messages"))
        self.check_temperature(payload)

    def check_max_tokens(self, value):
        if value is None:
            self.reject(400, "max_tokens: Field required")
        if not is_count(value):
            self.reject(400, "max_tokens: Input should be a valid integer")
        if value < 1:
            self.reject(400, "max_tokens: Input should be greater than or equal to 1")

    def check_messages(self, messages):
        if messages is None:
            self.reject(400, "messages: Field required")
        if not isinstance(messages, list):
            self.reject(400, "messages: Input should be a valid list")
        if not messages:
            self.reject(400, "messages: at least one message is required")
        previous_role = None
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                self.reject(400, "messages.%d: Input should be a valid dictionary" % index)
            role = message.get("role")
            if role == "system":
                self.reject(400, ANTHROPIC_SYSTEM_ROLE)
            if role not in ("user", "assistant"):
                self.reject(400, "messages.%d.role: Input should be 'user' or 'assistant'" % index)
            if index == 0 and role != "user":
                self.reject(400, 'messages: first message must use the "user" role')
            if role == previous_role:
                self.reject(400, 'messages: roles must alternate between "user" and "assistant", but found '
                                 'multiple "%s" roles in a row' % role)
            previous_role = role
            if "content" not in message:
                self.reject(400, "messages.%d.content: Field required" % index)
            final_assistant = index == len(messages) - 1 and role == "assistant"
            content = message["content"]
            if not is_non_empty_content(content) and not final_assistant:
                self.reject(400, "messages.%d: all messages must have non-empty content except for the optional "
                                 "final assistant message" % index)
            if isinstance(content, str) and content and not content.strip():
                self.reject(400, "messages: text content blocks must contain non-whitespace text")
            if final_assistant and isinstance(content, str) and content != content.rstrip():
                self.reject(400, "messages: final assistant content cannot end with trailing whitespace")

    def check_temperature(self, payload):
        value = payload.get("temperature")
        if value is None:
            return
        if not is_number(value):
            self.reject(400, "temperature: Input should be a valid number")
        if value > 1:
            self.reject(400, "temperature: Input should be less than or equal to 1")
        if value < 0:
            self.reject(400, "temperature: Input should be greater than or equal to 0")

    def error_body(self, status, message=None, **details):
        return anthropic_error(status, message)

    def content_blocks(self, text, draft):
        return [{"type": "text", "text": text}]

    def reply(self, request, rule):
        text, finish = scripted_outcome(rule)
        draft = rule.get("draft", DEFAULT_DRAFT)
        content = [] if text is None else self.content_blocks(text, draft)
        shown = "".join(block.get("text", block.get("thinking", "")) for block in content)
        return {"id": random_id("msg_"), "type": "message", "role": "assistant", "model": request.field("model"),
                "content": content, "stop_reason": ANTHROPIC_STOP_REASONS.get(finish, finish),
                "stop_sequence": None,
                "usage": {"input_tokens": prompt_tokens(request.payload), "output_tokens": text_tokens(shown)}}


class AnthropicNoTemperature(Anthropic):
    """Anthropic models that think before answering and take no temperature (the thinking block comes first,
    the answer is the text block after it)."""

    name = "anthropic_no_temperature"

    def check_temperature(self, payload):
        if payload.get("temperature") is not None:
            self.reject(400, "temperature is not supported for this model")

    def content_blocks(self, text, draft):
        signature = base64.b64encode(secrets.token_bytes(48)).decode("ascii")
        return [{"type": "thinking", "thinking": draft, "signature": signature}, {"type": "text", "text": text}]


# ----------------------------------------------------------------------------- OpenAI-compatible servers

class OpenAICompatible(OpenAIChat):
    """A server that speaks OpenAI's chat API but is not OpenAI: none of OpenAI's own rules (json_object
    without the word json), no refusal field unless refusing, the answer text where each server puts it."""

    json_word_required = False

    def content(self, text, draft):
        return text

    def assistant_message(self, text, finish, draft, request):
        message = {"role": "assistant", "content": self.content(text, draft)}
        if finish == "refusal":
            message["refusal"] = REFUSAL_TEXT
        return message


class OllamaThink(OpenAICompatible):
    """Ollama's /v1/chat/completions serving a thinking model: the reasoning inside <think>…</think> at the
    start of the content. No key."""

    name = "ollama_think"
    needs_key = False

    def content(self, text, draft):
        return None if text is None else "<think>\n" + draft + "\n</think>\n\n" + text

    def reasoning_tokens(self, draft):
        return text_tokens(draft)


class VllmThink(OpenAICompatible):
    """vLLM with a reasoning parser: the reasoning in message.reasoning_content, content the answer only."""

    name = "vllm_think"
    needs_key = False

    def assistant_message(self, text, finish, draft, request):
        message = super().assistant_message(text, finish, draft, request)
        message["reasoning_content"] = draft
        return message

    def reasoning_tokens(self, draft):
        return text_tokens(draft)

    def error_body(self, status, message=None, **details):
        phrase = status_phrase(status)
        return {"error": {"message": message or phrase, "type": phrase.replace(" ", "") + "Error",
                          "param": details.get("param"), "code": status}}


class ThinkUnopened(OpenAICompatible):
    """A DeepSeek-R1 style chat template that opens <think> in the prompt, so the content holds the reasoning
    and a closing </think> but no opening tag."""

    name = "think_unopened"
    needs_key = False

    def content(self, text, draft):
        return None if text is None else draft + "\n</think>\n\n" + text

    def reasoning_tokens(self, draft):
        return text_tokens(draft)


LLAMACPP_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                        404: "not_found_error", 500: "server_error", 501: "not_supported_error",
                        503: "unavailable_error"}
LLAMACPP_ALTERNATE = "Conversation roles must alternate user/assistant/user/assistant/..."


class LlamaCpp(OpenAICompatible):
    """llama.cpp's llama-server with a strict chat template (Gemma, Mistral): the template itself refuses
    a conversation that is not [system,] user, assistant, user, … and the server answers 500."""

    name = "llamacpp"
    needs_key = False
    model_required = False
    default_model = "gpt-3.5-turbo"  # what llama-server names its model when the request names none

    def check_temperature(self, payload):
        value = payload.get("temperature")
        if value is not None and not is_number(value):
            self.reject(400, "temperature must be a number")

    def check_response_format(self, payload):
        response_format = payload.get("response_format")
        if response_format is None:
            return
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if kind not in ("text", "json_object", "json_schema"):
            self.reject(400, 'response_format type must be one of "text" or "json_object", but got: %s' % kind)

    def check_conversation(self, messages):
        roles = [message["role"] for message in messages]
        turns = roles[1:] if roles[0] == "system" else roles
        for index, role in enumerate(turns):
            if role != ("user" if index % 2 == 0 else "assistant"):
                self.reject(500, LLAMACPP_ALTERNATE)

    def error_body(self, status, message=None, **details):
        default = "Loading model" if status == 503 else status_phrase(status)
        return {"error": {"code": status, "message": message or default,
                          "type": LLAMACPP_ERROR_TYPES.get(status, "server_error" if status >= 500
                                                           else "invalid_request_error")}}


class LmStudio(OpenAICompatible):
    """LM Studio's server: structured output only through json_schema, and errors as a plain string."""

    name = "lmstudio"
    needs_key = False
    model_required = False
    default_model = "local-model"

    def check_response_format(self, payload):
        response_format = payload.get("response_format")
        if response_format is None:
            return
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if kind not in ("json_schema", "text"):
            self.reject(400, "'response_format.type' must be 'json_schema' or 'text'")
        schema = response_format.get("json_schema")
        if kind == "json_schema" and not (isinstance(schema, dict) and isinstance(schema.get("schema"), dict)):
            self.reject(400, "'response_format.json_schema.schema' must be an object")

    def check_path(self, request):
        if not request.path.endswith("/chat/completions"):
            self.reject(404, "Unexpected endpoint or method. (POST %s)" % request.path)

    def error_body(self, status, message=None, **details):
        return {"error": message or status_phrase(status)}


OPENROUTER_ERRORS = {401: "No auth credentials found", 402: "Insufficient credits", 408: "Request timed out",
                     429: "Rate limit exceeded", 502: "Provider returned error",
                     503: "No available model provider that meets your routing requirements"}


class OpenRouter(OpenAICompatible):
    """openrouter.ai: a bearer key; errors {"error": {"code": <number>, "message"}}; an upstream failure after
    the 200 status went out comes as an error object in a 200 body."""

    name = "openrouter"

    def error_body(self, status, message=None, **details):
        return {"error": {"code": status, "message": message or OPENROUTER_ERRORS.get(status, "Bad request")}}

    def reply(self, request, rule):
        body = super().reply(request, rule)
        body["provider"] = "stub"
        return body


DEEPSEEK_ERRORS = {
    401: {"message": "Authentication Fails, Your api key is invalid", "type": "authentication_error",
          "param": None, "code": "invalid_request_error"},
    402: {"message": "Insufficient Balance", "type": "unknown_error", "param": None, "code": "invalid_request_error"},
    429: {"message": "Rate Limit Reached", "type": "rate_limit_error", "param": None, "code": None},
    503: {"message": "Server overloaded, please try again later.", "type": "server_error", "param": None,
          "code": None},
}


class DeepSeek(OpenAICompatible):
    """api.deepseek.com: while a non-streaming reply is being generated it sends blank lines to keep the
    connection alive, so the body is newlines and then the JSON; deepseek-reasoner adds reasoning_content."""

    name = "deepseek"
    body_prefix = b"\n\n\n"

    def assistant_message(self, text, finish, draft, request):
        message = super().assistant_message(text, finish, draft, request)
        if "reasoner" in str(request.field("model", "")):
            message["reasoning_content"] = draft
        return message

    def error_body(self, status, message=None, **details):
        if status in DEEPSEEK_ERRORS and message is None:
            return {"error": dict(DEEPSEEK_ERRORS[status])}
        return openai_error(status, message, **details)


MISTRAL_ERRORS = {401: ("Unauthorized", "invalid_request_error"),
                  429: ("Requests rate limit exceeded", "rate_limited"),
                  500: ("Internal server error", "internal_server_error"),
                  503: ("Service unavailable", "service_unavailable")}


class Mistral(OpenAICompatible):
    """api.mistral.ai with a reasoning (Magistral) model: content is a list of parts, a thinking part before
    the text part; the last message must be the user's (or a tool's, or an assistant prefix)."""

    name = "mistral"
    roles = ("system", "user", "assistant", "tool")

    def check_conversation(self, messages):
        last = messages[-1]
        if last["role"] not in ("user", "tool") and not (last["role"] == "assistant" and last.get("prefix")):
            self.reject(400, "Expected last role User or Tool (or Assistant with prefix True) for serving but got "
                        "%s" % last["role"], kind="invalid_request_message_error")

    def content(self, text, draft):
        if text is None:
            return None
        return [{"type": "thinking", "thinking": [{"type": "text", "text": draft}]}, {"type": "text", "text": text}]

    def reasoning_tokens(self, draft):
        return text_tokens(draft)

    def error_body(self, status, message=None, **details):
        default_message, kind = MISTRAL_ERRORS.get(status, ("Bad request", "invalid_request_error"))
        return {"object": "error", "message": message or default_message, "type": details.get("kind", kind),
                "param": details.get("param"), "code": None}


GEMINI_STATUSES = {400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
                   401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
                   403: ("PERMISSION_DENIED", "The caller does not have permission"),
                   404: ("NOT_FOUND", "Requested entity was not found."),
                   429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
                   500: ("INTERNAL", "An internal error has occurred. Please retry or report in "
                                     "https://developers.generativeai.google/guide/troubleshooting"),
                   503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
                   504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")}


class Gemini(OpenAICompatible):
    """Google's OpenAI-compatible Gemini endpoint (/v1beta/openai/chat/completions): errors come as a JSON
    array holding one Google API error."""

    name = "gemini"

    def check_path(self, request):
        if not request.path.endswith("/v1beta/openai/chat/completions"):
            self.reject(404)

    def error_body(self, status, message=None, **details):
        code_name, default_message = GEMINI_STATUSES.get(status) or GEMINI_STATUSES[400 if status < 500 else 500]
        return [{"error": {"code": status, "message": message or default_message, "status": code_name}}]


# ------------------------------------------------------------------------------------------------ no profile

class Unprofiled(Profile):
    """No profile: the stub as it always was. It checks nothing and answers both APIs, by the path's end."""

    name = None

    def is_anthropic(self, request):
        return request.raw_path.rstrip("/").endswith("/messages")

    def error_body(self, status, message=None, **details):
        return openai_error(status, message, **details)

    def failure_body(self, request, status):
        return anthropic_error(status) if self.is_anthropic(request) else openai_error(status)

    def reply(self, request, rule):
        text, finish = scripted_outcome(rule)
        payload = request.payload
        model = request.field("model", "stub")
        if self.is_anthropic(request):
            return {"id": "msg_stub", "type": "message", "role": "assistant", "model": model,
                    "content": [] if text is None else [{"type": "text", "text": text}],
                    "stop_reason": ANTHROPIC_STOP_REASONS.get(finish, finish),
                    "usage": {"input_tokens": prompt_tokens(payload), "output_tokens": text_tokens(text)}}
        if request.raw_path.rstrip("/").endswith("/chat/completions"):
            message = {"role": "assistant", "content": text}
            if finish == "refusal":
                message["refusal"] = REFUSAL_TEXT
            return {"id": "chatcmpl-stub", "object": "chat.completion", "model": model,
                    "choices": [{"index": 0, "message": message,
                                 "finish_reason": "stop" if finish == "refusal" else finish}],
                    "usage": {"prompt_tokens": prompt_tokens(payload), "completion_tokens": text_tokens(text)}}
        raise Rejection(404, {"error": {"message": "no such endpoint: " + request.raw_path}})


UNPROFILED = Unprofiled()
PROFILES = {profile.name: profile for profile in (
    OpenAIChat(), OpenAIReasoning(), AzureClassic(), AzureV1(), Anthropic(), AnthropicNoTemperature(),
    OllamaThink(), VllmThink(), ThinkUnopened(), LlamaCpp(), LmStudio(), OpenRouter(), DeepSeek(), Mistral(),
    Gemini())}
