"""Tool-call parsing fixtures: what TRL 1.16's `parse_response` makes of generated assistant turns.

    python3 Scripts/reference/make_tool_fixtures.py [OUT_DIR]      (default Tests/FledgeLMTests/Fixtures/tool_calls)

For each response format TRL's `add_response_schema` knows and Fledge parses — Qwen2.5/Qwen3 (`<tool_call>` JSON,
recorded with TRL's qwen2_5 template) and Llama 3.1/3.2 (bare JSON with "parameters", recorded with TRL's llama3_2
template) — the locally trained tokenizer of the tokenizer fixtures gets the template and `add_response_schema`;
a prompt with two tools is rendered (`apply_chat_template(add_generation_prompt=True)`), and each reply, well formed
or not, is encoded and parsed by `trl.chat_template_utils.parse_response(tokenizer, ids, prefix=prompt_ids,
tools=tools)`, as `GRPOTrainer._generate` calls it. A reply is a list of parts: text (added tokens in it become their
ids) or {"plain": text} (encoded one character at a time: a control token spelled out by ordinary tokens, which must
not act as a delimiter).

Writes OUT_DIR/qwen.json and OUT_DIR/llama3.json: the tokenizer and template fixture names, the tools, the prompt
ids, and per case its name, ids and TRL's parsed message.
"""
import json
import os
import sys

from transformers import AutoTokenizer
from trl import chat_template_utils as ctu

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
TOKENIZERS = os.path.join(ROOT, "Tests", "FledgeLMTests", "Fixtures", "tokenizers")

CALCULATOR = {"type": "function", "function": {
    "name": "calculator", "description": "Evaluates an arithmetic expression exactly.",
    "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}}
ADD = {"type": "function", "function": {
    "name": "add", "description": "Adds two numbers.",
    "parameters": {"type": "object", "properties": {
        "a": {"type": "integer"}, "b": {"type": "number"}, "exact": {"type": "boolean"},
        "note": {"type": ["string", "null"]}, "items": {"type": "array"}}, "required": ["a", "b"]}}}
TOOLS = [CALCULATOR, ADD]
PROMPT = [{"role": "user", "content": "What is 6*7?"}]

CALL = '{"name": "calculator", "arguments": {"expression": "6*7"}}'
QWEN_CASES = {
    "plain content": ["The answer is 42.<|im_end|>"],
    "one call": [f"<tool_call>\n{CALL}\n</tool_call><|im_end|>"],
    "content then call": [f"Let me compute.\n<tool_call>\n{CALL}\n</tool_call><|im_end|>"],
    "two calls": [f"<tool_call>\n{CALL}\n</tool_call>\n<tool_call>\n"
                  '{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call><|im_end|>'],
    "reasoning then call": [f"<think>\nI need arithmetic.\n</think>\n\n<tool_call>\n{CALL}\n</tool_call><|im_end|>"],
    "content after the call replaces content before it": [f"Before\n<tool_call>\n{CALL}\n</tool_call>\nAfter<|im_end|>"],
    "text after end of turn": ["Hi<|im_end|>\ntrailing"],
    "malformed JSON (missing brace)": ['<tool_call>\n{"name": "calculator", "arguments": {"expression": "6*7"}\n'
                                       "</tool_call><|im_end|>"],
    "truncated inside the call": ['<tool_call>\n{"name": "calculator", "argu'],
    "unclosed call whose JSON is complete": [f"<tool_call>\n{CALL}"],
    "name not a string": ['<tool_call>\n{"name": 5, "arguments": {}}\n</tool_call><|im_end|>'],
    "call is a list": ["<tool_call>\n[1, 2]\n</tool_call><|im_end|>"],
    "call is a string": ['<tool_call>\n"calculator"\n</tool_call><|im_end|>'],
    "missing arguments": ['<tool_call>\n{"name": "calculator"}\n</tool_call><|im_end|>'],
    "null arguments": ['<tool_call>\n{"name": "calculator", "arguments": null}\n</tool_call><|im_end|>'],
    "arguments as a string": ['<tool_call>\n{"name": "calculator", "arguments": "6*7"}\n</tool_call><|im_end|>'],
    "unknown tool": ['<tool_call>\n{"name": "search", "arguments": {"q": "7"}}\n</tool_call><|im_end|>'],
    "arguments typed by the tool schema": [
        '<tool_call>\n{"name": "add", "arguments": {"a": "7", "b": "2.5", "exact": "true", "note": "5", '
        '"items": "[1, 2]", "extra": "3"}}\n</tool_call><|im_end|>'],
    "arguments that do not convert": [
        '<tool_call>\n{"name": "add", "arguments": {"a": "seven", "b": "3", "exact": "yes", "items": "{}"}}\n'
        "</tool_call><|im_end|>"],
    "whole-number float for an integer": ['<tool_call>\n{"name": "add", "arguments": {"a": "3.0", "b": "1e3"}}\n'
                                          "</tool_call><|im_end|>"],
    "unicode arguments": ['<tool_call>\n{"name": "calculator", "arguments": {"expression": "2×3 — é \\u00e9"}}\n'
                          "</tool_call><|im_end|>"],
    "nested open tag": [f"<tool_call><tool_call>\n{CALL}\n</tool_call><|im_end|>"],
    "duplicate keys": ['<tool_call>\n{"name": "add", "name": "calculator", "arguments": {"expression": "1"}}\n'
                       "</tool_call><|im_end|>"],
    "whitespace only": ["  \n <|im_end|>"],
    "call spelled out with ordinary tokens": [{"plain": "<tool_call>"}, f"\n{CALL}\n", {"plain": "</tool_call>"},
                                              "<|im_end|>"],
    "end of turn spelled out": ["Done", {"plain": "<|im_end|>"}, " more<|im_end|>"],
    "extra text inside the call": [f"<tool_call>\nsure: {CALL}\n</tool_call><|im_end|>"],
    "special token inside content": ["a<|endoftext|>b<|im_end|>"],
}

LLAMA_CALL = '{"name": "calculator", "parameters": {"expression": "6*7"}}'
LLAMA3_CASES = {
    "plain content": ["The answer is 42.<|eot_id|>"],
    "one call": [f"{LLAMA_CALL}<|eot_id|>"],
    "content then call": [f"Sure. {LLAMA_CALL}<|eot_id|>"],
    "compact call": ['{"name":"calculator","parameters":{"expression":"1+1"}}<|eot_id|>'],
    "malformed JSON": ['{"name": "calculator", "parameters": {"expression": }}<|eot_id|>'],
    "truncated call": ['{"name": "calculator", "parameters": {"expression": "1+1"}}'],
    "truncated inside the call": ['{"name": "calculator", "parameters": {"expr'],
    "arguments key instead of parameters": ['{"name": "calculator", "arguments": {"expression": "6*7"}}<|eot_id|>'],
    "parameters not an object": ['{"name": "calculator", "parameters": "6*7"}<|eot_id|>'],
    "arguments typed by the tool schema": ['{"name": "add", "parameters": {"a": "7", "b": "0.5", "exact": "0"}}<|eot_id|>'],
    "two calls": [f"{LLAMA_CALL}<|eot_id|>" + '{"name": "add", "parameters": {"a": 1, "b": 2}}<|eot_id|>'],
    "end of turn spelled out": [f"{LLAMA_CALL[:-1]}", {"plain": "}<|eot_id|>"}],
    "text after end of turn": ["Hi<|eot_id|>\nmore"],
    "quote in the name": ['{"name": "calc\\"ulator", "parameters": {}}<|eot_id|>'],
}

FORMATS = [("qwen", "qwen2", "qwen2_5", QWEN_CASES), ("llama3", "llama3", "llama3_2", LLAMA3_CASES)]


def encode(tokenizer, parts):
    ids = []
    for part in parts:
        if isinstance(part, dict):
            for character in part["plain"]:  # one character at a time, so that no added token can match
                ids += tokenizer.encode(character, add_special_tokens=False)
        else:
            ids += tokenizer.encode(part, add_special_tokens=False)
    return ids


# Llama 3's template writes today's date (`strftime_now`) unless given one: a fixed date keeps the prompt ids the
# same whichever day the fixture is made or the test runs.
TEMPLATE_VARIABLES = {"date_string": "26 Jul 2024"}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "FledgeLMTests", "Fixtures", "tool_calls")
    os.makedirs(out, exist_ok=True)
    for name, tokenizer_name, template_name, cases in FORMATS:
        tokenizer = AutoTokenizer.from_pretrained(os.path.join(TOKENIZERS, tokenizer_name))
        tokenizer.chat_template = getattr(ctu, f"{template_name}_chat_template")
        ctu.add_response_schema(tokenizer)
        prompt_ids = tokenizer.apply_chat_template(PROMPT, tools=TOOLS, add_generation_prompt=True, tokenize=True,
                                                   return_dict=False, **TEMPLATE_VARIABLES)
        records = []
        for case, parts in cases.items():
            ids = encode(tokenizer, parts)
            parsed = ctu.parse_response(tokenizer, ids, prefix=prompt_ids, tools=TOOLS)
            records.append({"name": case, "ids": ids, "message": parsed})
        fixture = {"tokenizer": tokenizer_name, "template": template_name, "tools": TOOLS, "prompt": PROMPT,
                   "template_variables": TEMPLATE_VARIABLES, "prompt_ids": prompt_ids, "cases": records}
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(fixture, f, indent=1, ensure_ascii=False, allow_nan=False)
            f.write("\n")
        print(f"{name}: {len(records)} cases")


if __name__ == "__main__":
    main()
