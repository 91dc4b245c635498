#!/usr/bin/env python3
"""Golden outputs for LatheJinja and ChatTemplate, rendered by transformers' own chat-template machinery.

Run: $PYTHON Scripts/goldens/chat_templates.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]

Writes
  Tests/LatheTokenizersTests/Fixtures/chat/chat_goldens.json   templates x conversations x add_generation_prompt
  Tests/LatheJinjaTests/GoldenCases.swift                       small Jinja snippets with their rendered output
Both are generated; never edit them by hand. Deterministic: no clock (date_string is passed), no randomness.

chat_goldens.json: "templates" {name: {source, bos_token, eos_token[, extra_context]}}, "conversations", and one
case per (template, conversation, add_generation_prompt) with the rendered "expected" text and "generation_texts"
(the {% generation %} spans, for templates that mark them), or "error"/"error_type" where transformers raises.
A template's extra_context holds variables passed to the render besides bos/eos/date_string/tools, as keyword
arguments of apply_chat_template are (qwen3_style_no_thinking: enable_thinking=False).
The qwen3_style, gemma3_style and phi3_style templates are written here in the style of the public Qwen3, Gemma 3
and Phi-3.5-mini templates (the same constructs: reasoning_content / </think> splitting with last_query_index,
system text folded into the first user turn, <|end|> turns); the "thinking" conversation carries <think> blocks.
"""
import json
import os
import sys
from pathlib import Path

from transformers.utils.chat_template_utils import _compile_jinja_template, render_jinja_template

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GGUF = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[2] / "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf")


def smollm2_template():
    """The chat template and BOS/EOS token texts stored in the SmolLM2 GGUF."""
    from gguf import GGUFReader

    reader = GGUFReader(GGUF)

    def field(name):
        f = reader.fields[name]
        return f.parts[f.data[0]]

    template = bytes(field("tokenizer.chat_template")).decode()
    tokens = reader.fields["tokenizer.ggml.tokens"]
    token_text = lambda i: bytes(tokens.parts[tokens.data[i]]).decode()
    bos = token_text(int(field("tokenizer.ggml.bos_token_id")[0]))
    eos = token_text(int(field("tokenizer.ggml.eos_token_id")[0]))
    return template, bos, eos


# Public chat templates (data), as stored in ggml-org/llama.cpp models/templates/, JSON-escaped.
PHI4_MINI = json.loads(r'''"{%- if messages[0][\"role\"] == \"system\" %}\n    {%- set system_message = messages[0][\"content\"] %}\n{% elif tools is defined -%}\n    {%- set system_message = \"\" -%}\n{%- endif %}\n\n{%- if system_message is defined -%}\n    {{- '<|system|>' + system_message -}}\n    {%- if tools is defined -%}\n        {% for tool in tools %}\n            {{- '<|tool|>' + (tool['function'] | tojson) + '<|/tool|>' -}}\n        {% endfor %}\n        {%- if '<|tool_call|>' not in system_message -%}\n            {{- 'You are a helpful assistant with some tools.\\nTo use a tool, respond in this format: <|tool_call|>{\"name\": \"foo\", \"arguments\": {\"a\": 1}}<|/tool_call|>' -}}\n        {%- endif -%}\n    {%- endif -%}\n    {{- '<|end|>' -}}\n{%- endif -%}\n{%- for message in messages -%}\n    {%- if message['role'] == 'tool' -%}\n        {{- '<|tool_response|>' + (message['content'] | tojson) + '<|end|>' -}}\n    {%- elif message['role'] != 'system' -%}\n        {{- '<|' + message['role'] + '|>' -}}\n        {%- if message.content -%}\n            {{- message['content'] -}}\n        {%- endif -%}  \n        {%- for tool_call in message.tool_calls -%}\n            {{- '<|tool_call|>' + (tool_call['function'] | tojson) + '<|/tool_call|>' -}}\n        {%- endfor -%}\n        {{- '<|end|>' -}}\n    {%- endif -%}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n   {{- '<|assistant|>' -}}\n{%- else -%}\n   {{- eos_token -}}\n{%- endif -%}"''')
DEEPSEEK_R1_DISTILL = json.loads(r'''"{% if not add_generation_prompt is defined -%}\n  {%- set add_generation_prompt = false -%}\n{%- endif -%}\n{%- set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') -%}\n{%- for message in messages -%}\n  {%- if message['role'] == 'system' -%}\n    {%- set ns.system_prompt = message['content'] -%}\n  {%- endif -%}\n{%- endfor -%}{{bos_token}}{{ns.system_prompt}}\n{%- for message in messages -%}\n  {%- if message['role'] == 'user' -%}\n    {%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}\n  {%- endif -%}\n  {%- if message['role'] == 'assistant' and message['tool_calls'] -%}\n    {%- set ns.is_tool = false -%}\n    {%- for tool in message['tool_calls']-%}\n      {%- if not ns.is_first -%}\n        {{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}\n        {%- set ns.is_first = true -%}\n      {%- else -%}\n        {{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}\n      {%- endif -%}\n    {%- endfor -%}\n    {{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}\n  {%- endif -%}\n  {%- if message['role'] == 'assistant' and message['content'] is not none -%}\n    {%- if ns.is_tool -%}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}\n      {%- set ns.is_tool = false -%}\n    {%- else -%}\n      {%- set content = message['content'] -%}\n      {%- if '</think>' in content -%}\n        {%- set content = content.split('</think>')[-1] -%}\n      {%- endif -%}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}\n    {%- endif -%}\n  {%- endif -%}\n  {%- if message['role'] == 'tool' -%}\n    {%- set ns.is_tool = true -%}\n    {%- if ns.is_output_first -%}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}\n      {%- set ns.is_output_first = false -%}\n      {%- else -%}{{'\\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}\n    {%- endif -%}\n  {%- endif -%}\n{%- endfor -%}\n{%- if ns.is_tool -%}{{'<｜tool▁outputs▁end｜>'}}\n{%- endif -%}\n{%- if add_generation_prompt and not ns.is_tool -%}{{'<｜Assistant｜><think>\\n'}}\n{%- endif %}"''')
NEMOTRON_NANO_V2 = json.loads(r'''"{%- set ns = namespace(enable_thinking=true) -%}\n{%- for message in messages -%}\n  {%- set content = message['content'] -%}\n  {%- if message['role'] == 'user' or message['role'] == 'system' -%}\n    {%- if '/think' in content -%}\n      {%- set ns.enable_thinking = true -%}\n    {%- elif '/no_think' in content -%}\n      {%- set ns.enable_thinking = false -%}\n    {%- endif -%}\n  {%- endif -%}\n{%- endfor -%}\n\n{%- if messages[0]['role'] != 'system' -%}\n  {%- set ns.non_tool_system_content = '' -%}\n  {{- '<SPECIAL_10>System\n' -}}\n{%- else -%}\n  {%- set ns.non_tool_system_content = (messages[0]['content'] | default('', true)).replace('/think', '').replace('/no_think', '').strip() -%}\n  {{- '<SPECIAL_10>System\n' + ns.non_tool_system_content }}\n{%- endif -%}\n\n{%- if tools -%}\n  {%- if ns.non_tool_system_content is defined and ns.non_tool_system_content != '' -%}\n    {{- '\n\n' -}}\n  {%- endif -%}\n  {{- 'You can use the following tools to assist the user if required:' -}}\n  {{- '\n<AVAILABLE_TOOLS>[' -}}\n  {%- for tool in tools -%}\n    {{- (tool.function if tool.function is defined else tool) | tojson -}}\n    {{- ', ' if not loop.last else '' -}}\n  {%- endfor -%}\n  {{- ']</AVAILABLE_TOOLS>\n\n' -}}\n  {{- 'If you decide to call any tool(s), use the following format:\n' -}}\n  {{- '<TOOLCALL>[{{\"name\": \"tool_name1\", \"arguments\": \"tool_args1\"}}, ' -}}\n  {{- '{{\"name\": \"tool_name2\", \"arguments\": \"tool_args2\"}}]</TOOLCALL>\n\n' -}}\n  {{- 'The user will execute tool-calls and return responses from tool(s) in this format:\n' -}}\n  {{- '<TOOL_RESPONSE>[{{\"tool_response1\"}}, {{\"tool_response2\"}}]</TOOL_RESPONSE>\n\n' -}}\n  {{- 'Based on the tool responses, you can call additional tools if needed, correct tool calls if any errors are found, or just respond to the user.' -}}\n{%- endif -%}\n{{- '\n\n' -}}\n\n{%- set messages = messages[1:] if messages[0]['role'] == 'system' else messages -%}\n{%- if messages[-1]['role'] == 'assistant' -%}\n  {%- set ns.last_turn_assistant_content = (messages[-1]['content'] | default('', true)).strip() -%}\n  {%- set ns.last_turn_assistant_tool_calls = messages[-1]['tool_calls'] if 'tool_calls' in messages[-1] else [] -%}\n  {%- set messages = messages[:-1] -%}\n{%- endif -%}\n\n{%- for message in messages %}\n  {%- set content = message['content'] %}\n  {%- if message['role'] == 'user' -%}\n    {{- '<SPECIAL_11>User\n' + (content | default('', true)).replace('/think', '').replace('/no_think', '').strip() + '\n' }}\n  {%- elif message['role'] == 'tool' -%}\n    {%- if loop.first or (messages[loop.index0 - 1].role != 'tool') -%}\n      {{- '<SPECIAL_11>User\n' + '<TOOL_RESPONSE>[' }}\n    {%- endif -%}\n    {{- message['content'] -}}\n    {{- ', ' if not loop.last and (messages[loop.index0 + 1].role == 'tool') else '' -}}\n    {%- if loop.last or (messages[loop.index0 + 1].role != 'tool') -%}\n      {{- ']</TOOL_RESPONSE>\n\n' -}}\n    {%- endif -%}\n  {%- elif message['role'] == 'assistant' -%}\n    {%- if content and '</think>' in content -%}\n      {%- set content = (content.split('</think>')[1] | default('', true)).strip() %}\n    {%- endif -%}\n    {{- '<SPECIAL_11>Assistant\n' + ((content | default('', true)).strip() if content is not none else '') }}\n    {%- if message.tool_calls -%}\n      {%- if (content | default('', true)).strip() != '' -%}\n        {{- '\n\n' -}}\n      {%- endif -%}\n      {{- '<TOOLCALL>[' -}}\n      {%- for call in message.tool_calls -%}\n        {%- set fn = call.function if call.function is defined else call -%}\n        {{- '{\"name\": \"' + fn.name + '\", \"arguments\": ' -}}\n        {%- if fn.arguments is string -%}\n          {{- fn.arguments -}}\n        {%- else -%}\n          {{- fn.arguments | tojson -}}\n        {%- endif -%}\n        {{- '}' + (', ' if not loop.last else '') -}}\n      {%- endfor -%}\n      {{- ']</TOOLCALL>' -}}\n    {%- endif -%}\n    {{- '\n<SPECIAL_12>\n\n' -}}\n  {%- endif -%}\n{%- endfor -%}\n\n{%- if add_generation_prompt -%}\n  {{- '<SPECIAL_11>Assistant\n' -}}\n  {%- if ns.enable_thinking is defined and ns.enable_thinking is false -%}\n    {{- '<think></think>' -}}\n  {%- else -%}\n    {{- '<think>\n\n' -}}\n  {%- endif -%}\n  {%- if ns.last_turn_assistant_content is defined and ns.last_turn_assistant_content != '' -%}\n    {{- ns.last_turn_assistant_content -}}\n  {%- endif -%}\n{%- else -%}\n  {%- if ns.last_turn_assistant_content is defined and ns.last_turn_assistant_content != '' -%}\n    {{- '<SPECIAL_11>Assistant\n' -}}\n    {%- if ns.enable_thinking is defined and ns.enable_thinking is false -%}\n      {{- '<think></think>' -}}\n    {%- else -%}\n      {{- '<think>\n\n' -}}\n    {%- endif -%}\n    {{- ns.last_turn_assistant_content -}}\n    {%- if continue_final_message is defined -%}\n      {%- if continue_final_message is false -%}\n        {{- '\n<SPECIAL_12>\n\n' -}}\n      {%- endif -%}\n    {%- else -%}\n      {{- '\n<SPECIAL_12>\n\n' -}}\n    {%- endif -%}\n  {%- endif -%}\n  {%- if ns.last_turn_assistant_tool_calls is defined and ns.last_turn_assistant_tool_calls | length > 0 -%}\n    {{- '<SPECIAL_11>Assistant\n' -}}\n    {{- '<TOOLCALL>[' -}}\n    {%- for call in ns.last_turn_assistant_tool_calls -%}\n      {%- set fn = call.function if call.function is defined else call -%}\n      {{- '{\"name\": \"' + fn.name + '\", \"arguments\": ' -}}\n      {%- if fn.arguments is string -%}\n        {{- fn.arguments -}}\n      {%- else -%}\n        {{- fn.arguments | tojson -}}\n      {%- endif -%}\n      {{- '}' + (', ' if not loop.last else '') -}}\n    {%- endfor -%}\n    {{- ']</TOOLCALL>' -}}\n    {{- '\n<SPECIAL_12>\n\n' -}}\n {%- endif -%}\n{%- endif -%}"''')

# Templates written in the style of the public ones (same constructs and control flow).
LLAMA31 = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\\n\\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

QWEN25 = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

MISTRAL = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

GEMMA = """{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"""

# Qwen3: ChatML plus <think> blocks. Reasoning is kept only on assistant turns after the last user query; the
# generation prompt opens an empty think block when `enable_thinking` is false (rendered twice, see TEMPLATES).
QWEN3 = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\\n\\n' }}
    {%- endif %}
    {{- "# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- elif messages[0].role == 'system' %}
    {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not (message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- elif '</think>' in content %}
            {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
"""

# Gemma 3: the system message is folded into the first user turn; assistant turns are "model"; content may be a
# string or a list of typed parts.
GEMMA3 = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\\n\\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{ '<start_of_turn>model\\n' }}
{%- endif -%}
"""

# Phi-3 / Phi-3.5-mini: one tag line per role, <|end|> after each turn, EOS when no generation prompt follows.
PHI3 = """{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{ '<|system|>\\n' + message['content'] + '<|end|>\\n' }}{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '<|end|>\\n' }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n' + message['content'] + '<|end|>\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}"""

# ChatML with transformers' {% generation %} markers around assistant turns, as in HF's assistant-mask docs.
CHATML_GENERATION = """{%- for message in messages %}
    {%- if message.role == 'assistant' %}
        {{- '<|im_start|>assistant\\n' }}
        {%- generation %}
            {{- message.content + '<|im_end|>' }}
        {%- endgeneration %}
        {{- '\\n' }}
    {%- else %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name, e.g. Zürich"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "integer", "description": "Forecast length", "minimum": 1},
                },
                "required": ["city"],
            },
        },
    }
]

TOOL_CALL = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}}

CONVERSATIONS = [
    {"name": "single_turn", "messages": [{"role": "user", "content": "What is 2+2?"}]},
    {"name": "single_exchange", "messages": [
        {"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "2+2 is 4."}]},
    {"name": "multi_turn", "messages": [
        {"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello, how can I help?"},
        {"role": "user", "content": "Tell me a joke."}, {"role": "assistant", "content": "Why did the chicken cross the road?"}]},
    {"name": "with_system", "messages": [
        {"role": "system", "content": "You are a terse assistant."}, {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."}, {"role": "user", "content": "And of Italy?"}]},
    {"name": "unicode", "messages": [
        {"role": "user", "content": "Héllo — 日本語 🎉 naïve café"}, {"role": "assistant", "content": "Ça va? ✓ 👍🏽 Ελληνικά"}]},
    {"name": "whitespace", "messages": [
        {"role": "user", "content": "  padded question  \n\n"}, {"role": "assistant", "content": "\n  lines\n\tand tabs  \n"}]},
    {"name": "jinja_text", "messages": [
        {"role": "user", "content": "Render {{ 7*7 }} and {% if x %}yes{% endif %} literally"},
        {"role": "assistant", "content": "{# not a comment #} {{ messages }} {%- raw %}"}]},
    {"name": "empty_content", "messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": ""}]},
    {"name": "tool_use", "tools": True, "messages": [
        {"role": "system", "content": "You can check the weather."},
        {"role": "user", "content": "Weather in Zürich?"},
        {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]},
        {"role": "tool", "name": "get_weather", "content": "{\"temperature\": 21, \"sky\": \"clear\"}"},
        {"role": "assistant", "content": "It is 21 °C and clear in Zürich."}]},
    {"name": "thinking", "messages": [
        {"role": "user", "content": "What is 3*3?"},
        {"role": "assistant", "content": "<think>\nThree threes.\n</think>\n\n3*3 is 9."},
        {"role": "user", "content": "And 4*4?"},
        {"role": "assistant", "content": "<think>\nFour fours make sixteen.\n</think>\n\n4*4 is 16."}]},
]


def render_chat(template, bos, eos, conversation, add_generation_prompt, extra_context=None):
    kwargs = {"bos_token": bos, "eos_token": eos, "date_string": "26 Jul 2024", **(extra_context or {})}
    tools = TOOLS if conversation.get("tools") else None
    rendered, indices = render_jinja_template(
        conversations=[conversation["messages"]], tools=tools, chat_template=template,
        add_generation_prompt=add_generation_prompt, return_assistant_tokens_mask=True, **kwargs)
    text = rendered[0]
    return {"expected": text, "generation_texts": [text[a:b] for a, b in indices[0]]}


def chat_goldens():
    smol, smol_bos, smol_eos = smollm2_template()
    templates = {
        "smollm2": {"source": smol, "bos_token": smol_bos, "eos_token": smol_eos},
        "llama31_style": {"source": LLAMA31, "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
        "qwen25_style": {"source": QWEN25, "bos_token": None, "eos_token": "<|im_end|>"},
        "mistral_style": {"source": MISTRAL, "bos_token": "<s>", "eos_token": "</s>"},
        "gemma_style": {"source": GEMMA, "bos_token": "<bos>", "eos_token": "<eos>"},
        "chatml_generation": {"source": CHATML_GENERATION, "bos_token": None, "eos_token": "<|im_end|>"},
        "phi4_mini": {"source": PHI4_MINI, "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"},
        "deepseek_r1_distill": {"source": DEEPSEEK_R1_DISTILL, "bos_token": "<｜begin▁of▁sentence｜>",
                                "eos_token": "<｜end▁of▁sentence｜>"},
        "nemotron_nano_v2": {"source": NEMOTRON_NANO_V2, "bos_token": "<SPECIAL_1>", "eos_token": "<SPECIAL_12>"},
        # extra_context: template variables passed besides messages/tools/add_generation_prompt/date_string
        # (transformers' apply_chat_template(**kwargs), e.g. enable_thinking=False).
        "qwen3_style": {"source": QWEN3, "bos_token": None, "eos_token": "<|im_end|>"},
        "qwen3_style_no_thinking": {"source": QWEN3, "bos_token": None, "eos_token": "<|im_end|>",
                                    "extra_context": {"enable_thinking": False}},
        "gemma3_style": {"source": GEMMA3, "bos_token": "<bos>", "eos_token": "<eos>"},
        "phi3_style": {"source": PHI3, "bos_token": "<s>", "eos_token": "<|endoftext|>"},
    }
    cases = []
    for tname, t in templates.items():
        for conv in CONVERSATIONS:
            for agp in (False, True):
                case = {"template": tname, "conversation": conv["name"], "add_generation_prompt": agp}
                try:
                    case.update(render_chat(t["source"], t["bos_token"] or "", t["eos_token"], conv, agp,
                                            t.get("extra_context")))
                except Exception as e:  # raise_exception (TemplateError) or a type error in the template
                    case["error"] = str(e)
                    case["error_type"] = type(e).__name__
                cases.append(case)
    convs = [{"name": c["name"], "messages": c["messages"], "tools": TOOLS if c.get("tools") else None}
             for c in CONVERSATIONS]
    return {"templates": templates, "conversations": convs, "date_string": "26 Jul 2024", "cases": cases}


# (name, template, context) rendered with transformers' environment.
JINJA_CASES = [
    ("text", "hello", {}),
    ("variable", "{{ a }} {{ b }}", {"a": 1, "b": "x"}),
    ("undefined_prints_empty", "[{{ nope }}]", {}),
    ("none_true_false", "{{ none }} {{ true }} {{ False }} {{ x is none }}", {"x": None}),
    ("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }}", {}),
    ("float_repr", "{{ 0.1 + 0.2 }} {{ 1.0 }} {{ 1e-5 }} {{ 3 * 1.5 }} {{ 10 / 4 }} {{ 1e16 }}", {}),
    ("concat", "{{ 'a' ~ 1 ~ none ~ undefined_var }} {{ 'x' + 'y' }}", {}),
    ("string_escapes", "{{ 'tab\\there\\nnew \\'q\\' \\\\ \\u00e9' }}|{{ \"dq \\\" \" }}", {}),
    ("compare", "{{ 1 < 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 1 != 2 }} {{ 1 < 2 < 3 }} {{ [1,2] == [1,2] }}", {}),
    ("logic", "{{ true and 'x' }} {{ false or 'y' }} {{ not 0 }} {{ '' or 'empty' }} {{ 0 and 1 }}", {}),
    ("in_not_in", "{{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in d }} {{ 'z' not in d }} {{ 'x' in undefined_thing }}", {"d": {"k": 1}}),
    ("conditional", "{{ 'yes' if x else 'no' }} [{{ 'only' if not x }}]", {"x": True}),
    ("if_elif_else", "{% for i in [1,2,3] %}{% if i == 1 %}one{% elif i == 2 %}two{% else %}many{% endif %},{% endfor %}", {}),
    ("for_loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }} {% endfor %}", {}),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}", {}),
    ("for_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", {"d": {"b": 2, "a": 1}}),
    ("for_filter", "{% for m in msgs if m.role != 'system' %}{{ loop.index }}:{{ m.role }}/{{ loop.length }} {% endfor %}", {"msgs": [{"role": "system"}, {"role": "user"}, {"role": "assistant"}]}),
    ("loop_prev_next_cycle", "{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a','b') }} {% endfor %}", {}),
    ("break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("scoping", "{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}", {}),
    ("namespace", "{% set ns = namespace(total=0, found=false) %}{% for i in [1,2,3] %}{% set ns.total = ns.total + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.found }}", {}),
    ("set_block", "{% set greeting %}Hello {{ name }}!{% endset %}[{{ greeting }}]", {"name": "Ada"}),
    ("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = 1, 'x' %}{{ t }} {{ t | tojson }}", {}),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bo') }} {{ greet('Al', punct='?') }} {{ greet(name='Cy') }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("call_block", "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside{% endcall %}", {}),
    ("attribute_item", "{{ d.a }} {{ d['a'] }} {{ l[0] }} {{ l[-1] }} {{ l.1 }} {{ d.missing }}|{{ l[10] }}|", {"d": {"a": "A"}, "l": [1, 2, 3]}),
    ("slicing", "{{ l[1:] }} {{ l[:-1] }} {{ l[::-1] }} {{ l[::2] }} {{ s[1:3] }} {{ s[::-1] }} {{ s[-2:] }} {{ l[5:] }}", {"l": [1, 2, 3, 4], "s": "héllo"}),
    ("list_dict_literals", "{{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v', 'n': [1]} }} {{ (1, 2) | list }} {{ (1, 2) }} {{ (1,) }} {{ () }} {{ (1, 2) == [1, 2] }} {{ (1, 'a') + (none,) }} {{ (1, 2)[1:] }}", {}),
    ("repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'a\\nb'] }}", {}),
    ("whitespace_control", "a  {{- ' b ' -}}  c\n  {%- if true -%}\n  d\n  {%- endif -%}  \ne", {}),
    ("trim_lstrip_blocks", "<ul>\n    {% for i in [1, 2] %}\n    <li>{{ i }}</li>\n    {% endfor %}\n</ul>\n", {}),
    ("lstrip_plus", "  {%+ if true %}x{% endif %}\n  {% if true +%}\ny{% endif %}", {}),
    ("comments", "a {# comment #} b\n  {# line comment #}\nc {#- strip -#}   d", {}),
    ("trailing_newline", "line\n", {}),
    ("crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("filters_string", "{{ '  hi  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 'hello wORLD-foo' | title }}|{{ 'hELLO' | capitalize }}|{{ 'aXbX' | replace('X', '-') }}|{{ 'a' | replace('a', 'b', 1) }}", {}),
    ("filters_seq", "{{ l | length }} {{ l | count }} {{ l | first }} {{ l | last }} {{ l | join(', ') }} {{ 'abc' | list }} {{ l | reverse | list }} {{ l | sort }} {{ l | sum }} {{ l | min }} {{ l | max }} {{ [3, 1, 3] | unique | list }}", {"l": [3, 1, 2]}),
    ("filters_default", "{{ x | default('dflt') }} {{ '' | default('e', true) }} {{ none | d('n') }} {{ 0 | default(5) }}", {}),
    ("filters_numbers", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int(7) }} {{ 3 | float }} {{ '2.5' | float }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, 'ceil') }} {{ -3 | abs }}", {}),
    ("filters_string_conv", "{{ 5 | string }} {{ [1] | string }} {{ none | string }} {{ {'a': true} | string }}", {}),
    ("filters_items", "{% for k, v in d | items %}{{ k }}:{{ v }} {% endfor %}{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %} {{ d | dictsort }} {{ d | items | list }} {{ d.items() | list }}", {"d": {"z": 1, "a": 2}}),
    ("selectattr_map", "{{ users | selectattr('active') | map(attribute='name') | join(',') }} {{ users | rejectattr('active') | map(attribute='name') | list }} {{ users | selectattr('role', 'equalto', 'admin') | map(attribute='name') | first }} {{ users | map(attribute='age', default=0) | list }}", {"users": [{"name": "a", "active": True, "role": "admin", "age": 3}, {"name": "b", "active": False, "role": "user"}]}),
    ("select_reject", "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('even') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ ['a', 'b'] | map('upper') | list }}", {}),
    ("tojson", "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"\\n' | tojson }}|{{ [] | tojson(indent=2) }}|{{ d | tojson(separators=[',', ':']) }}|{{ d | tojson(sort_keys=true) }}|{{ 'é' | tojson(ensure_ascii=true) }}", {"d": {"b": [1, 2.5, None, True], "a": {"x": "ü 😀"}}}),
    ("indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}", {}),
    ("format", "{{ '%s is %d years, %s' | format('Al', 30, [1]) }} {{ '%.2f%%' | format(3.14159) }}", {}),
    ("tests", "{{ x is defined }} {{ y is undefined }} {{ 's' is string }} {{ 1 is number }} {{ 1.0 is integer }} {{ 1 is integer }} {{ {} is mapping }} {{ [] is iterable }} {{ 's' is sequence }} {{ true is boolean }} {{ true is true }} {{ 0 is false }} {{ 3 is odd }} {{ 4 is even }} {{ 1 is equalto 1 }} {{ 2 is eq 3 }} {{ 9 is divisibleby 3 }} {{ x is not none }} {{ none is none }}", {"x": 1}),
    ("string_methods", "{{ '  a b  '.strip() }}|{{ 'xxa'.lstrip('x') }}|{{ 'a  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ 'aXa'.replace('a', 'b') }}|{{ 'hello world'.title() }}|{{ 'x'.join(['1', '2']) }}|{{ 'a</think>b'.split('</think>')[-1] }}|{{ 'abcabc'.find('c') }}{{ 'abcabc'.rfind('c') }}{{ 'abcabc'.count('b') }}", {}),
    ("dict_methods", "{{ d.keys() | list }} {{ d.values() | list }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }}", {"d": {"a": 1, "b": 2}}),
    ("range", "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }} {{ range(0) | list }}", {}),
    ("dict_global", "{{ dict(a=1, b='x') }} {{ dict(a=1).a }}", {}),
    ("string_multiply", "{{ '-' * 5 }}{{ 3 * 'ab' }}{{ [0] * 3 }}", {}),
    ("unicode_len", "{{ 'héllo😀' | length }} {{ 'héllo😀'[5] }} {{ 'ÅB' | lower }}", {}),
    ("nested_access", "{{ m.tool_calls[0].function.name }} {{ m['tool_calls'][0]['function']['arguments'] | tojson }}", {"m": {"tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}}),
    ("generation_block", "A{% generation %}gen{{ 1 + 1 }}{% endgeneration %}B", {}),
    ("filter_block", "{% filter upper %}shout {{ 'it' }}{% endfilter %}", {}),
    ("undefined_semantics", "{{ u | length }} {{ u is string }} {{ u | default('d') }} {{ u == u }} {{ u is none }} [{% for x in u %}x{% endfor %}] {{ n.attr is defined }} {{ 'abc'[10] }}|{{ u | items | list }}", {"n": None}),
    ("none_attr", "[{{ n.x }}] {{ n is none }} {{ n == none }} {{ not n }}", {"n": None}),
    ("bool_arith", "{{ true + 1 }} {{ true * 'ab' }} {{ 3 > 2.5 }} {{ 'b' > 'a' }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }}", {}),
    ("messages_patterns", "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% endif %}{{ system | default('none') }}:{% for m in loop_messages %}{{ m.role[0] | upper }}{{ loop.index0 % 2 }}{% if not loop.last %},{% endif %}{% endfor %} last={{ messages[-1].content }} n={{ messages | selectattr('role', 'equalto', 'user') | list | length }}", {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"}]}),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}", {}),
    ("dict_iteration", "{% for k in d %}{{ k }}{% endfor %} {{ d | list }} {{ d | length }} {% for k, v in d.items() if v > 1 %}{{ k }}{% endfor %}", {"d": {"a": 1, "b": 2, "c": 3}}),
    ("tool_schema", "{% for t in tools %}{% set f = t.function %}{{ f.name }}({% for name, p in f.parameters.properties.items() %}{{ name }}: {{ p.type }}{% if name in f.parameters.required %}!{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}) {{ f | tojson(indent=2) }}{% endfor %}", {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string", "items": {"type": "x"}}, "b": {"type": "integer"}}, "required": ["a"]}}}]}),
    ("floats_json", "{{ [1.0, 0.5, 1e-7, 123456789.0, 1e22, -0.0] | tojson }} {{ 1e22 }} {{ 2.0 ** 0.5 }} {{ 10 / 3 }}", {}),
    ("whitespace_macro", "{%- macro m(x) -%}\n  [{{ x }}]\n{%- endmacro -%}\n{{ m(1) }}\n  {{- m(2) }}\n", {}),
    ("lstrip_after_expression", "a {{ 1 }}  {% if true %}b{% endif %}\n  {# c #}  d\n\t{% if true %}e{% endif %}", {}),
    ("trim_comment_newline", "x{# c #}\ny\n{# d #}\nz", {}),
    ("unicode_template", "{{ 'ü' ~ '→' }} ✓ {% for c in 'ñ😀' %}<{{ c }}>{% endfor %} {{ 'ÄÖ' | lower }} {{ 'straße' | upper }}", {}),
    ("string_edge", "{{ '' | trim }}|{{ 'a\tb' }}|{{ 'x' * 0 }}|{{ 'x' * -1 }}|{{ 'abc' | reverse }}|{{ 'a-b' | title }}|{{ 'ab cd'.split(' ') }}|{{ ''.split() }}|{{ 'a\nb\r\nc'.splitlines() }}", {}),
    ("int_float_filters", "{{ '0x1A' | int(0, 16) }} {{ ' 12 ' | int }} {{ '1_000' | int }} {{ true | int }} {{ 'nan' | float }} {{ none | int }} {{ 7 | float | string }}", {}),
    ("join_attribute", "{{ users | join(', ', attribute='name') }} {{ users | map(attribute='name') | map('upper') | join }}", {"users": [{"name": "ann"}, {"name": "bob"}]}),
    ("sort_unique", "{{ ['b', 'A', 'a', 'C'] | sort }} {{ ['b', 'A', 'a'] | sort(case_sensitive=true) }} {{ ['b', 'A', 'a'] | unique | list }} {{ users | sort(attribute='age', reverse=true) | map(attribute='name') | list }}", {"users": [{"name": "x", "age": 3}, {"name": "y", "age": 9}]}),
    ("conditional_chain", "{% for x in [1, 2, 3] %}{{ 'one' if x == 1 else 'two' if x == 2 else 'many' }} {% endfor %}", {}),
    ("set_in_if_leaks", "{% if true %}{% set a = 5 %}{% endif %}{{ a }} {% for i in [1] %}{% set b = 2 %}{% endfor %}[{{ b }}]", {}),
    ("macro_scope", "{% set g = 'G' %}{% macro m() %}{{ g }}{{ x }}{% endmacro %}{{ m() }} {% for x in [1] %}{{ m() }}{% endfor %}", {"x": "X"}),
    ("loop_controls_else", "{% for i in [1, 2, 3] %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% else %}none{% endfor %}", {}),
    ("equalto_tests", "{{ [1, 2, 1] | select('equalto', 1) | list }} {{ ['a', 'b'] | reject('in', ['a']) | list }} {{ 5 is gt 3 }} {{ 'ab' is lower }} {{ x is sameas none }}", {"x": None}),
    ("raw_block", "a {% raw %}{{ not evaluated }} {% if %}{% endraw %} b\n  {% raw -%}  x  {%- endraw %}\n{% raw %}\n  y\n  {% endraw %}\nz", {}),
    ("unicode_whitespace_control", "a\u00a0\u3000 {%- if true -%} \u2003\n b {%- endif %}", {}),
    ("python_float_division", "{{ 7 // 0.1 }} {{ -7 // 2.5 }} {{ 7 % -2.5 }} {{ -0.0 % 5 }} {{ 5.5 % 2 }} {{ -1.5 is even }} {{ 3.0 is odd }} {{ 4.5 is divisibleby 1.5 }}", {}),
    ("list_methods", "{{ l.count(1) }} {{ l.index(2) }} {{ m.count('a') | default('D', true) }}", {"l": [1, 2, 1], "m": []}),
    ("wordcount_lower_upper", "{{ 'a-b c_d 2.5' | wordcount }} {{ l is lower }} {{ 'X1' is upper }} {{ '12' is lower }} {{ u is sequence }} {{ 3.7 | safe | string }}", {"l": [{"a": 1}]}),
    ("error_format_extra_args", "{{ 'no directives' | format(1) }}", {}),
    ("error_float_of_undefined", "{{ u | float(1.5) }}", {}),
    ("error_slice_int", "{{ x[1:2] }}", {"x": 5}),
    ("for_else_after_continue_break", "{% for i in [1, 2] %}{% continue %}{% else %}E1{% endfor %}|{% for i in [1, 2] %}{% break %}{% else %}E2{% endfor %}|{% for i in [1, 2] %}{% if i == 2 %}{% break %}{% endif %}{% else %}E3{% endfor %}", {}),
    ("root_local_shadows_context", "{% macro m() %}[{{ x }}]{% endmacro %}{{ m() }}{% for i in [1] %}({{ x }}){% endfor %}{% set x = 1 %}{{ m() }}|{% if c %}{% set y = 2 %}{% endif %}{{ y }}|{{ z }}{% set z = 3 %}{{ z }}", {"x": 5, "y": 6, "z": 7, "c": False}),
    ("block_frames", "{% generation %}{% set g = 1 %}{{ g }}{% endgeneration %}[{{ g }}]{% filter upper %}{% set h = 'x' %}{{ h }}{% endfilter %}[{{ h }}]", {}),
    ("string_percent_operator", "{{ '<|%s|>' % role }} {{ '%s=%d' % ('n', 3) }} {{ '%(a)s-%(b)s' % {'a': 1, 'b': 'x'} }} {{ '100%%' % () }} {{ 7 % 3 }}", {"role": "user"}),
    ("raise_exception", "{{ raise_exception('Conversation roles must alternate') }}", {}),
    ("error_undefined_attr", "{{ missing.attr }}", {}),
    ("error_add_types", "{{ 1 + 'a' }}", {}),
    ("error_unknown_filter", "{{ 1 | nosuchfilter }}", {}),
    ("error_syntax", "{% if x %}no end", {}),
    ("error_syntax_expr", "{{ 1 + }}", {}),
]


def jinja_goldens():
    out = []
    for name, source, context in JINJA_CASES:
        case = {"name": name, "template": source, "context": context}
        try:
            case["expected"] = _compile_jinja_template(source).render(**context)
        except Exception as e:
            case["error"] = type(e).__name__
            case["message"] = str(e)
        out.append(case)
    return out


def main():
    chat_dir = os.path.join(ROOT, "Tests", "LatheTokenizersTests", "Fixtures", "chat")
    os.makedirs(chat_dir, exist_ok=True)
    with open(os.path.join(chat_dir, "chat_goldens.json"), "w", encoding="utf-8") as f:
        json.dump(chat_goldens(), f, ensure_ascii=False, indent=1)
        f.write("\n")
    cases = json.dumps(jinja_goldens(), ensure_ascii=False, indent=1)
    assert '"""##' not in cases
    swift = (
        "// Generated by Scripts/goldens/chat_templates.py from jinja2 "
        "under transformers' chat-template environment. Do not edit.\n"
        "let goldenCasesJSON = ##\"\"\"\n" + cases + "\n\"\"\"##\n"
    )
    with open(os.path.join(ROOT, "Tests", "LatheJinjaTests", "GoldenCases.swift"), "w", encoding="utf-8") as f:
        f.write(swift)


if __name__ == "__main__":
    main()
