"""Render varied conversations through real chat templates with transformers' `apply_chat_template`
and record the text and ids (or that it raised), as fixtures for `Tests/FledgeLMTests`.

The templates are the copies of real model templates that TRL ships in `trl/chat_templates/`.
Run after make_tokenizer_fixtures.py: python Scripts/reference/make_chat_template_fixtures.py [OUT_DIR]
(default OUT_DIR: Tests/FledgeLMTests/Fixtures/chat). Needs `pip install transformers trl jinja2`.
"""
import json
import os
import shutil
import sys

import trl
from transformers import AutoTokenizer

# The templates the issue names, whose texts and ids are both recorded ...
CORE_TEMPLATES = ["llama3", "llama3_1", "llama3_2", "qwen2_5", "qwen3", "qwen3_instruct_2507", "gemma", "gemma3", "phi3",
                  "phi3_5", "deepseekv3", "deepseek_r1_distill", "qwen3_training", "llama3_training"]
# ... and more real templates with other constructs (macros, dictsort, namespaces, loop controls), texts only.
EXTRA_TEMPLATES = ["gemma4", "idefics3", "glm4moe", "cohere2", "nemotron_3_nano", "lfm2", "qwen3_5_think", "smolvlm"]

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather in a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name, e.g. \"Paris\""},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}}
SEARCH_TOOL = {"type": "function", "function": {
    "name": "search", "description": "Search the web — returns snippets.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "default": 3},
                                                    "score": {"type": "number", "minimum": 0.5}}, "required": ["query"]}}}

CONVERSATIONS = [
    {"messages": [{"role": "user", "content": "Hello!"}]},
    {"messages": [{"role": "system", "content": "You are a terse assistant."},
                  {"role": "user", "content": "What is 2+2?"},
                  {"role": "assistant", "content": "4"},
                  {"role": "user", "content": "And 3+3?"}]},
    {"messages": [{"role": "user", "content": "Tell me a joke."},
                  {"role": "assistant", "content": "Why did the chicken cross the road?"},
                  {"role": "user", "content": "Why?"},
                  {"role": "assistant", "content": "To get to the other side."}]},
    {"messages": [{"role": "system", "content": "  Leading and trailing spaces  \n"},
                  {"role": "user", "content": "\tTabs\tand\nnewlines\n\n  and  runs   of spaces "},
                  {"role": "assistant", "content": "Unicode: café naïve 東京 🤖👍🏽 e\u0301 Ωμέγα — “quotes” ‘single’"},
                  {"role": "user", "content": "Emoji only: 🎉🎉🎉\nJSON-ish: {\"a\": [1, 2]} and <tags> & ampersands"}]},
    {"messages": [{"role": "user", "content": "What's the weather in Paris?"},
                  {"role": "assistant", "content": "", "tool_calls": [
                      {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
                  {"role": "tool", "name": "get_weather", "content": "{\"temperature\": 21, \"sky\": \"clear\"}"},
                  {"role": "assistant", "content": "It is 21 °C and clear in Paris."}],
     "tools": [WEATHER_TOOL, SEARCH_TOOL]},
    {"messages": [{"role": "system", "content": "Use tools when useful."},
                  {"role": "user", "content": "Search for Swift tokenizers, then the weather in Zürich."},
                  {"role": "assistant", "content": None, "tool_calls": [
                      {"type": "function", "function": {"name": "search", "arguments": "{\"query\": \"Swift tokenizers\", \"limit\": 2}"}},
                      {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Zürich\"}"}}]},
                  {"role": "tool", "content": "[\"swift-transformers\", \"Fledge\"]"},
                  {"role": "tool", "content": "{\"temperature\": 12.5}"},
                  {"role": "assistant", "content": "Found two; it is 12.5 °C in Zürich."},
                  {"role": "user", "content": "Thanks"}],
     "tools": [SEARCH_TOOL, WEATHER_TOOL]},
    {"messages": [{"role": "user", "content": "Think first: is 17 prime?"},
                  {"role": "assistant", "content": "<think>\nCheck divisors up to 4.\n</think>\n\nYes, 17 is prime."},
                  {"role": "user", "content": "And 21?"}]},
    {"messages": [{"role": "user", "content": "Reason about 9."},
                  {"role": "assistant", "content": "9 = 3 × 3.", "reasoning_content": "Nine is three squared."},
                  {"role": "user", "content": "Now 10."},
                  {"role": "assistant", "content": "10 = 2 × 5.", "reasoning_content": "Ten is two times five."}]},
    {"messages": [{"role": "system", "content": "System only, no user."}]},
    {"messages": [{"role": "user", "content": "First"}, {"role": "user", "content": "Second in a row"}]},
    {"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": ""}]},
    {"messages": [{"role": "system", "content": [{"type": "text", "text": "Describe images briefly."}]},
                  {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is in this picture?"}]},
                  {"role": "assistant", "content": [{"type": "text", "text": "A cat on a mat."}]}]},
    {"messages": [{"role": "user", "content": "Call a tool"},
                  {"role": "assistant", "content": "Calling.", "tool_calls": [
                      {"type": "function", "function": {"name": "search", "arguments": {"query": "q", "limit": 1, "score": 0.75, "flags": [True, None]}}}]}],
     "tools": [SEARCH_TOOL]},
]

# Small templates exercising Jinja semantics one by one, rendered against MESSAGES.
SNIPPETS = [
 "{{ messages[0].content }}", "{{ messages[0]['content'] | upper }}", "{{ messages | length }}",
 "{% for m in messages %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}",
 "{% for m in messages %}{% for c in m.role %}{{ loop.index0 }}{% endfor %}|{{ loop.index }}{% endfor %}",
 "{{ 'a\\tb\\n' }}", "{{ \"it's\" }}", "{{ [1, 'a', none, true, 1.5] }}", "{{ {'a': 1, 'b': [2]} }}",
 "{{ 10 / 4 }} {{ 10 // 4 }} {{ -10 // 4 }} {{ 10 % -3 }} {{ 2 ** 10 }} {{ 1e3 }} {{ 0.1 + 0.2 }}",
 "{{ 'abc' * 2 }} {{ [1] * 3 }} {{ 'x' ~ 1 ~ none }}", "{{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1,2] == [1,2] }}",
 "{{ undefined_var }}|{{ undefined_var is defined }}|{{ undefined_var | default('d') }}",
 "{{ none | default('d') }}|{{ '' | default('d', true) }}", "{{ undefined_var.attr }}",
 "{{ messages[5] }}|{{ messages[-1].role }}", "{{ 'hello world'.split() }} {{ ' a  b '.split(' ') }} {{ 'a,b,c'.rsplit(',', 1) }}",
 "{{ '  x '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ 'Hello'.lower() }}{{ 'hello world'.title() }}{{ 'hELLO'.capitalize() }}",
 "{{ 'abc'[1:] }} {{ 'abc'[::-1] }} {{ [1,2,3,4][1:3] }} {{ [1,2,3,4][-2:] }} {{ [1,2,3][::2] }}",
 "{{ messages | map(attribute='role') | join(', ') }}", "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}",
 "{% for k, v in {'x': 1, 'y': 2}.items() %}{{ k }}={{ v }};{% endfor %}",
 "{{ {'b': 1, 'a': 2} | dictsort }}", "{{ {'b': 1, 'a': 2} | items | list }}", "{{ {'a': 1}.items() | list }}",
 "{{ '%s and %r: %d%%, %.2f' % ('a', 'b', 7, 2.345) }} {{ 'x=%s' % 5 }}", "{{ '%s %s' % (1,) }}",
 "{% for m in messages %}{{ loop.cycle('odd', 'even') }}{{ loop.depth }}{% endfor %}",
 "{{ (1,) }} {{ () }} {{ (1, 'a') == (1, 'a') }} {{ (1, 2) == [1, 2] }} {{ (1, 2) + (3,) }} {{ (1, 2, 3)[1:] }}",
 "{{ [3,1,2] | sort }} {{ [3,1,2] | sort(reverse=true) }} {{ ['b','A','c'] | sort }} {{ [1,2,2,3] | unique | list }}",
 "{{ 'x' in 'xyz' }} {{ 'a' in ['a'] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }}",
 "{{ 42 | string }}{{ '7' | int + 1 }}{{ '2.5' | float }}{{ -3 | abs }}", "{{ [1, 2] | first }}{{ [1, 2] | last }}{{ 'abc' | first }}",
 "{{ {'a': [1, {'b': 'é\"'}], 'c': none} | tojson }}", "{{ {'a': 1} | tojson(indent=2) }}", "{{ 'x' | tojson }}{{ 1.0 | tojson }}",
 "{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}",
 "{% set ns = namespace(a=1) %}{% for i in [1,2] %}{% set ns.a = ns.a * 10 %}{% endfor %}{{ ns.a }}",
 "{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, b=3) }} {{ m('x', 'y') }}",
 "{% if 0 %}a{% elif [] %}b{% elif 'x' %}c{% else %}d{% endif %}", "{{ 'yes' if 1 else 'no' }}{{ 'yes' if 0 }}",
 "{{ messages[0].content is string }} {{ 1 is number }} {{ true is number }} {{ 1.5 is integer }} {{ {} is mapping }} {{ 'x' is iterable }} {{ none is none }}",
 "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'A' is upper }}",
 "  {% if true %}\n    indented\n  {% endif %}\nafter", "{% for i in range(3) -%}\n  {{ i }}\n{%- endfor %}", "a  {#- comment -#}  b",
 "{{ 'a' + 1 }}", "{{ none + 'a' }}", "{{ [1,2].append(3) }}", "{{ raise_exception('boom') }}",
 "{{ range(2, 10, 3) | list }}", "{{ dict(a=1, b=2) }}", "{{ (1, 2)[0] }}", "{{ 'a' 'b' }}", "{{ -1 }}{{ -(1+2) }}{{ not true }}",
 "{% for x in [] %}x{% else %}empty{% endfor %}", "{% for x in [1,2,3] if x > 1 %}{{ x }}{{ loop.index }}{% endfor %}",
 "{% set y %}block {{ 1 }}{% endset %}[{{ y }}]", "{{ 'a-b-c'.replace('-', '+', 1) }} {{ 'abcabc'.find('c') }} {{ 'aaa'.count('a') }}",
 "{{ 'Hi' | trim | lower | replace('h', 'j') }}", "{{ messages[0] }}", "{{ true }}{{ false }}{{ none }}",
 "{{ [1, [2, 'x']] | tojson }}{{ 1e-7 }} {{ 12345678901234567.0 }} {{ 3.0 }}",
 "{{ 'x'.startswith('x') and 'y'.endswith(('a', 'y')) }}", "{{ messages[0].get('role') }}{{ messages[0].get('nope', 'dflt') }}",
 "{% for m in messages %}{{ loop.previtem.role if loop.previtem is defined }};{% endfor %}",
 "{{ 5 > 3 > 1 }}", "{{ [] | first }}|", "{{ 'abc'[10] }}|", "{{ messages[0].content[0:3] }}",
]
MESSAGES = [{"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "Hi"}]
CONVERSATIONS.append({"messages": MESSAGES})

# Extra template variables, one rendering per entry.
VARIABLES = {"llama3_2": [{"date_string": "25 Nov 2026"}], "qwen3": [{}, {"enable_thinking": False}],
             "qwen3_5_think": [{}, {"enable_thinking": False}], "llama3_1": [{}, {"tools_in_user_message": False}]}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Tests/FledgeLMTests/Fixtures/chat"
    tokenizer_dir = os.path.join(os.path.dirname(out.rstrip("/")), "tokenizers", "llama3")
    template_dir = os.path.join(os.path.dirname(trl.__file__), "chat_templates")
    os.makedirs(os.path.join(out, "templates"), exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    with open(os.path.join(out, "conversations.json"), "w") as f:
        json.dump(CONVERSATIONS, f, indent=1, ensure_ascii=False)
    cases = []
    for name in CORE_TEMPLATES + EXTRA_TEMPLATES:
        shutil.copy(os.path.join(template_dir, name + ".jinja"), os.path.join(out, "templates", name + ".jinja"))
        with open(os.path.join(template_dir, name + ".jinja")) as f:
            tokenizer.chat_template = f.read()
        for index, conversation in enumerate(CONVERSATIONS):
            for generation_prompt, variables in [(g, v) for v in VARIABLES.get(name, [{}]) for g in (False, True)]:
                case = {"template": name, "conversation": index, "add_generation_prompt": generation_prompt,
                        "variables": variables}
                try:
                    text = tokenizer.apply_chat_template(conversation["messages"], tools=conversation.get("tools"),
                                                         add_generation_prompt=generation_prompt, tokenize=False,
                                                         **case["variables"])
                    case["text"] = text
                    if name in CORE_TEMPLATES and not generation_prompt:  # ids for half the cases keep the file small
                        case["ids"] = list(tokenizer.apply_chat_template(
                            conversation["messages"], tools=conversation.get("tools"), add_generation_prompt=generation_prompt,
                            tokenize=True, return_dict=False, **case["variables"]))
                except Exception as error:  # the template (or Python under it) raised: Fledge must raise too
                    case["error"] = f"{type(error).__name__}: {error}"
                cases.append(case)
    for source in SNIPPETS:
        tokenizer.chat_template = source
        case = {"source": source, "conversation": len(CONVERSATIONS) - 1}
        try:
            case["text"] = tokenizer.apply_chat_template(MESSAGES, tokenize=False)
        except Exception as error:
            case["error"] = f"{type(error).__name__}: {error}"
        cases.append(case)
    with open(os.path.join(out, "expected.jsonl"), "w") as f:
        for case in cases:
            f.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(len(cases), "cases,", sum("error" in c for c in cases), "raise")


if __name__ == "__main__":
    main()
