#!/usr/bin/env python3
"""Writes Tests/Fixtures/jinja/cases.json: small Jinja templates rendered by transformers' own jinja2 environment.

Each case is a template, the variables it renders with (the whole context: nothing else is predefined) and either
the exact output or the kind of error jinja2 raised, with the phase (parse or render) and template line. The Swift
ChatTemplate tests render every case and compare exactly.

Run with a Python that has transformers and jinja2 (the repository's setup uses /tmp/venv):

    /tmp/venv/bin/python tools/make_jinja_goldens.py
"""

import ast
import json
import os
import random
import traceback

import jinja2
import transformers
from transformers.utils.chat_template_utils import _compile_jinja_template

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "jinja", "cases.json")


CASES = []


def case(case_name: str, template: str, **variables) -> None:
    CASES.append((case_name, template, variables))


# --- Whitespace: trim_blocks, lstrip_blocks, '-' and '+' -------------------------------------------------------
case("ws_plain_text", "hello world")
case("ws_trailing_newline_dropped", "abc\n")
case("ws_two_trailing_newlines", "abc\n\n")
case("ws_crlf_normalized", "a\r\nb\rc\r\n")
case("ws_block_trims_newline", "a\n{% if true %}\nb\n{% endif %}\nc")
case("ws_block_lstrip_indent", "a\n    {% if true %}\n    b\n    {% endif %}\nc")
case("ws_lstrip_tab", "x\n\t{% if true %}y{% endif %}\n")
case("ws_lstrip_at_template_start", "   {% if true %}x{% endif %}")
case("ws_no_lstrip_after_text", "a  {% if true %}x{% endif %}")
case("ws_no_lstrip_for_variables", "a\n  {{ 'x' }}\n  b")
case("ws_variable_no_trim", "{{ 'a' }}\n{{ 'b' }}\n")
case("ws_minus_left", "a  \n\n  {%- if true %}x{% endif %}")
case("ws_minus_right", "{% if true -%}  \n\n  x{% endif %}")
case("ws_minus_both_variable", "x  \n {{- 'y' -}} \n z")
case("ws_minus_variable_start", "{{- 'x' }}  ")
case("ws_plus_left_keeps_indent", "a\n    {%+ if true %}x{% endif %}")
case("ws_plus_right_keeps_newline", "{% if true +%}\nx{% endif %}")
case("ws_plus_both", "a\n  {%+ if true +%}\nb\n  {%+ endif +%}\nc")
case("ws_minus_and_lstrip", "a\n   {%- if true -%}\n   b\n   {%- endif -%}\n   c")
case("ws_comment_lstrip_trim", "a\n  {# note #}\nb")
case("ws_comment_minus", "a  {#- note -#}  b")
case("ws_comment_plus", "a\n  {#+ note +#}\nb")
case("ws_comment_multiline", "a{# line1\nline2 #}b\n{# x #}\nc")
case("ws_comment_trailing_spaces", "  {# c #}  \nx")
case("ws_two_blocks_one_line", "  {% if true %}{% if true %}x{% endif %}{% endif %}\n")
case("ws_for_lines", "{% for i in [1, 2] %}\n  {{ i }}\n{% endfor %}\n")
case("ws_for_indented_tags", "<ul>\n  {% for i in [1, 2] %}\n    <li>{{ i }}</li>\n  {% endfor %}\n</ul>")
case("ws_variable_then_block_same_line", "{{ 'a' }}  {% if true %}b{% endif %}")
case("ws_line_start_after_minus_end", "{% if true -%}   \n   {% if true %}x{% endif %}{% endif %}")
case("ws_line_start_after_trim", "{% if true %}\n   {% if true %}x{% endif %}{% endif %}")
case("ws_nbsp_is_whitespace", "a\n\u00a0\u3000{% if true %}x{% endif %}")
case("ws_block_end_trims_one_newline", "{% if true %}\n\n\nx{% endif %}")
case("ws_else_branch_lines", "a\n  {% if false %}\n  b\n  {% else %}\n  c\n  {% endif %}\n")
case("ws_set_line", "{% set x = 1 %}\n{{ x }}\n")
case("ws_raw_block", "{% raw %}{{ x }}{% if %}{% endraw %}")
case("ws_raw_block_lines", "  {% raw %}\n  {{ x }}\n  {% endraw %}\nend")
case("ws_raw_minus", "a {%- raw -%}  b  {%- endraw -%} c")
case("ws_delimiters_in_string", "{{ '{{ x }}' }}{{ \"{% if %}\" }}")
case("ws_minus_eats_all_newlines", "a\n\n\n{%- if true %}b{% endif -%}\n\n\nc")
case("ws_comment_then_block", "{# a #}\n  {% if true %}\nx\n{% endif %}\n")
case("ws_lone_brace", "a { b } {x} %} #}")
case("ws_variable_minus_right_newline", "{{ 'a' -}}\n  {% if true %}b{% endif %}")
case("ws_text_only_spaces_line", "  \n{% if true %}x{% endif %}")
case("ws_block_at_end_without_newline", "x\n  {% if true %}y{% endif %}")
case("ws_nested_loops_layout", "{% for a in [1, 2] %}\n  {% for b in ['x', 'y'] %}\n    {{ a }}{{ b }}\n  {% endfor %}\n{% endfor %}\n")
case("ws_minus_plus_mix", "a  {%- if true +%}\n  b  {%+ endif -%}  c")

# --- Literals and printing ------------------------------------------------------------------------------------
case("lit_strings", "{{ 'single' }} {{ \"double\" }} {{ 'adjacent' \"concat\" }}")
case("lit_escapes", "{{ 'a\\nb' }}|{{ 'tab\\there' }}|{{ \"q\\\"uote\" }}|{{ 'it\\'s' }}|{{ 'back\\\\slash' }}")
case("lit_escapes_unicode", "{{ '\\x41\\u00e9\\U0001F600' }}|{{ '\\101' }}|{{ '\\q' }}")
case("lit_unicode_text", "{{ 'héllo wörld 你好 😀' }}")
case("lit_integers", "{{ 42 }} {{ 1_000_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 0 }}")
case("lit_floats", "{{ 1.5 }} {{ 1e3 }} {{ 2.5e-3 }} {{ 1.0 }} {{ 1_0.5 }} {{ 3E2 }}")
case("lit_constants", "{{ true }} {{ True }} {{ false }} {{ False }} {{ none }} {{ None }}")
case("lit_list", "{{ [1, 'a', none, true, 1.5, [2]] }}")
case("lit_list_trailing_comma", "{{ [1, 2,] }}")
case("lit_dict", "{{ {'a': 1, 'b': [1, {'c': 'd'}], 'e': none} }}")
case("lit_dict_order", "{{ {'z': 1, 'a': 2, 'm': 3} }}")
case("lit_empty_containers", "{{ [] }} {{ {} }} {{ '' }}|")
case("lit_tuple_in_list", "{{ [(1)] }}")
case("repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'plain'] }}")
case("repr_escapes", "{{ ['a\\nb', 'tab\\t', 'cr\\r', 'bs\\\\', '\\x01', '\\x7f'] }}")
case("repr_unicode", "{{ ['é', '\\u00a0', '\\u200b', '😀', '\\u2028'] }}")
case("repr_floats", "{{ [1.0, 2.5e20, -0.0, 1e16, 1e15, 0.0001, 1e-5, 0.1 + 0.2, 1/3] }}")
case("repr_nested_dict", "{{ {'k': {'n': [true, false, none]}} }}")
case("print_variables", "{{ s }}|{{ i }}|{{ f }}|{{ b }}|{{ n }}|{{ l }}|{{ d }}", s="text", i=7, f=2.5, b=True, n=None, l=[1, "x"], d={"k": "v"})
case("print_float_variables", "{{ a }} {{ b }} {{ c }}", a=1.0, b=100.0, c=-3.25)
case("print_undefined", "[{{ missing }}]")

# --- Arithmetic -----------------------------------------------------------------------------------------------
case("math_basic", "{{ 1 + 2 }} {{ 5 - 7 }} {{ 3 * 4 }} {{ 10 / 4 }} {{ 10 / 5 }} {{ 10 // 4 }} {{ 10 % 4 }}")
case("math_floor_negative", "{{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ -7 // -2 }}")
case("math_float_mod", "{{ 7.5 % 2 }} {{ -7.5 // 2 }} {{ -7.5 % 2 }} {{ 7 // 2.0 }}")
case("math_power", "{{ 2 ** 10 }} {{ 2 ** -2 }} {{ 2.0 ** 3 }} {{ 2 ** 0 }} {{ (-2) ** 3 }}")
case("math_precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 * 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }}")
case("math_unary", "{{ -3 }} {{ +3 }} {{ 3 - -2 }} {{ - - 4 }} {{ -(1 + 2) }}")
case("math_bool_int", "{{ true + 1 }} {{ true + true }} {{ false * 3 }} {{ true / 2 }}")
case("math_mixed", "{{ 1 + 1.5 }} {{ 3 * 1.0 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 1 / 3 }} {{ 2 ** 62 }}")
case("math_variables", "{{ a + b }} {{ a * f }} {{ a // b }}", a=7, b=2, f=0.5)
case("concat_tilde", "{{ 'a' ~ 1 ~ none ~ true ~ 1.5 ~ [1] }}")
case("concat_undefined", "{{ 'a' ~ missing ~ 'b' }}")
case("concat_plus", "{{ 'a' + 'b' }} {{ [1] + [2, 3] }}")
case("repeat", "{{ 'ab' * 3 }} {{ 3 * 'ab' }} {{ [1, 2] * 2 }} {{ 'x' * 0 }}|{{ 'x' * -1 }}|")
case("percent_format", "{{ '%s and %s' % ('a', 'b') }} {{ '%d%%' % 50 }} {{ '%05.2f' % 3.14159 }} {{ '%-5s|' % 'ab' }} {{ '%r' % 'q' }}")
case("percent_format_mapping", "{{ '%(name)s is %(age)d' % {'name': 'Bo', 'age': 7} }}")

# --- Comparisons and logic ------------------------------------------------------------------------------------
case("cmp_equality", "{{ 1 == 1.0 }} {{ 1 == true }} {{ 0 == false }} {{ 'a' == 'a' }} {{ 'a' != 'b' }} {{ none == none }} {{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ 1 == '1' }}")
case("cmp_order", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 2.5 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ [1] < [1, 0] }} {{ 2 >= 3 }}")
case("cmp_chained", "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1 == 1 }} {{ 1 < 3 > 2 }}")
case("cmp_in", "{{ 'ab' in 'cabd' }} {{ 1 in [1, 2] }} {{ 'a' in {'a': 1} }} {{ 'x' not in 'abc' }} {{ not 'x' in 'abc' }} {{ 3 in [1, 2] }} {{ '' in 'abc' }}")
case("cmp_in_undefined", "{{ 'a' in missing }}")
case("logic_values", "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' and 'y' }}|{{ none or [] or 'z' }} {{ not none }} {{ not 1 }} {{ [] or {} }}")
case("logic_precedence", "{{ true or false and false }} {{ not true or true }} {{ not (true or true) }} {{ 1 and 0 or 2 }}")
case("logic_truthiness", "{% for v in [0, 1, '', 'a', [], [0], {}, {'a': 1}, none, 0.0, 0.5, false] %}{{ 'T' if v else 'F' }}{% endfor %}")
case("cond_expr", "{{ 'a' if true else 'b' }} {{ 'a' if false else 'b' if true else 'c' }} [{{ 'a' if false }}]")
case("cond_expr_in_concat", "{{ 'x' ~ ('y' if true else 'z') ~ 'w' }}")
case("cond_expr_precedence", "{{ 1 + 1 if false else 5 }}")

# --- Variables, attribute and item access, slicing -------------------------------------------------------------
NESTED = {"a": {"b": {"c": 1}}, "list": [10, 20, 30], "s": "hello", "role": "user"}
case("access_attr_and_item", "{{ x.a.b.c }} {{ x['a']['b']['c'] }} {{ x.a['b'].c }} {{ x['role'] }} {{ x.role }}", x=NESTED)
case("access_missing_key", "[{{ x.missing }}][{{ x['missing'] }}][{{ x.a.nope }}]", x=NESTED)
case("access_missing_is_undefined", "{{ x.missing is undefined }} {{ x.missing is defined }} {{ x.a is defined }}", x=NESTED)
case("access_list_index", "{{ xs[0] }} {{ xs[-1] }} {{ xs.1 }} [{{ xs[5] }}] [{{ xs[-9] }}]", xs=[10, 20, 30])
case("access_string_index", "{{ s[0] }} {{ s[-1] }} [{{ s[10] }}]", s="héllo")
case("access_dict_methods_vs_keys", "{{ d['items'] }} {{ d.keys() | list }} {{ d['keys'] }}", d={"items": "ITEMS", "keys": "KEYS"})
case("access_none_attr", "[{{ n.foo }}]", n=None)
case("access_int_attr", "[{{ i.foo }}] [{{ i['x'] }}]", i=3)
case("access_str_attr", "[{{ s.foo }}]", s="abc")
case("access_bool_index", "{{ xs[true] }} {{ xs[false] }}", xs=["a", "b"])
case("slice_list", "{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[1:3] }} {{ xs[-100:100] }} {{ xs[3:1] }} {{ xs[3:1:-1] }} {{ xs[:] }}", xs=[0, 1, 2, 3, 4])
case("slice_string", "{{ s[1:3] }} {{ s[::-1] }} {{ s[-3:] }} {{ s[:0] }}|", s="hello")
case("slice_messages", "{% for m in messages[1:] %}{{ m.role }};{% endfor %}", messages=[{"role": "system"}, {"role": "user"}, {"role": "assistant"}])
case("slice_variable_bounds", "{{ xs[a:b] }}", xs=[1, 2, 3, 4], a=1, b=-1)
case("dict_literal_access", "{{ {'a': 1}['a'] }} {{ {'a': 1}.a }} {{ {'a': {'b': 2}}.a.b }}")
case("list_literal_index", "{{ [1, 2, 3][1] }} {{ ['a', 'b'][-1] }}")
case("unicode_keys", "{{ d['ключ'] }} {{ d.ключ }}", d={"ключ": "значение"})

# --- if / for / set / namespace --------------------------------------------------------------------------------
case("if_elif_else", "{% for v in [1, 2, 3] %}{% if v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %} {% endfor %}")
case("if_nested", "{% if a %}{% if b %}ab{% else %}a{% endif %}{% elif b %}b{% else %}none{% endif %}", a=True, b=False)
case("if_tuple_test", "{% if 1, 2 %}tuple{% endif %}")
case("if_undefined_false", "{% if missing %}yes{% else %}no{% endif %}")
case("for_loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}")
case("for_prev_next", "{% for x in [1, 2, 3] %}[{{ loop.previtem }}|{{ loop.nextitem }}]{% endfor %}")
case("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] %}x{% else %}empty{% endfor %}")
case("for_filter", "{% for x in range(10) if x % 3 == 0 %}{{ x }}:{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}")
case("for_filter_else", "{% for x in [1, 2] if x > 5 %}x{% else %}none{% endfor %}")
case("for_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}")
case("for_nested_break", "{% for a in [1, 2] %}{% for b in [1, 2, 3] %}{% if b == 2 %}{% break %}{% endif %}{{ a }}{{ b }} {% endfor %}{% endfor %}")
case("for_nested_loop_vars", "{% for a in 'ab' %}{% for b in 'xy' %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}")
case("for_outer_loop_alias", "{% for a in 'ab' %}{% set outer = loop %}{% for b in 'xy' %}{{ outer.index }}{{ loop.index }} {% endfor %}{% endfor %}")
case("for_dict", "{% for k in d %}{{ k }}{% endfor %}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", d={"z": 1, "a": 2})
case("for_unpack_pairs", "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}")
case("for_string", "{% for c in 'héllo' %}[{{ c }}]{% endfor %}")
case("for_undefined_empty", "{% for x in missing %}x{% else %}empty{% endfor %}")
case("for_cycle", "{% for x in range(5) %}{{ loop.cycle('odd', 'even') }} {% endfor %}")
case("for_loop_in_filter_uses_target", "{% for m in messages if m.role != 'system' %}{{ m.content }}{% endfor %}", messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}])
case("set_simple", "{% set x = 1 + 2 %}{{ x }}{% set y = x * 2 %}{{ y }}")
case("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c, d = 'xy' %}{{ c }}{{ d }}")
case("set_in_loop_does_not_leak", "{% set x = 0 %}{% for i in [1, 2] %}{{ x }}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}")
case("set_in_if_leaks", "{% if true %}{% set y = 3 %}{% endif %}{{ y }}")
case("set_in_loop_invisible_after", "{% for i in [1] %}{% set z = 5 %}{% endfor %}[{{ z }}]")
case("namespace_counter", "{% set ns = namespace(count=0, found=false) %}{% for i in range(4) %}{% set ns.count = ns.count + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.found }}")
case("namespace_print", "{% set ns = namespace(a=1, b='x') %}{{ ns }} {{ ns.a }} {{ ns['b'] }} [{{ ns.missing }}]")
case("namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}")
case("set_block", "{% set x %}Hello {{ name }}!{% endset %}[{{ x }}]", name="World")
case("set_block_filter", "{% set x | upper | trim %}  shout  {% endset %}[{{ x }}]")
case("set_block_lines", "{% set x %}\n  line1\n  line2\n{% endset %}[{{ x }}]")
case("with_block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]")
case("print_tag", "{% print 'a' ~ 1 %}")
case("generation_tag", "{% generation %}assistant text{% endgeneration %}!")
case("macro_simple", "{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Bo') }} {{ greet('Al', 'Hi') }} {{ greet(greeting='Yo', name='Cy') }}")
case("macro_missing_arg", "{% macro m(a, b) %}[{{ a }}|{{ b }}]{% endmacro %}{{ m(1) }}")
case("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs | list }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k='v') }}")
case("macro_late_binding", "{% macro m() %}{{ x }}{% endmacro %}{% set x = 1 %}{{ m() }}{% set x = 2 %}{{ m() }}")
case("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}")
case("macro_default_uses_param", "{% macro m(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ m(3) }}")
case("macro_output_string", "{% macro m() %}ab{% endmacro %}{{ m() | upper }} {{ m() | length }}")
case("macro_whitespace", "{% macro render(m) %}\n  <{{ m }}>\n{% endmacro %}\n{% for x in [1, 2] %}\n{{ render(x) }}\n{% endfor %}\n")
case("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}")
case("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}[{{ item }}]{% endcall %}")
case("filter_block", "{% filter upper %}abc {{ 'def' }}{% endfilter %}|{% filter replace('a', 'o') | title %}banana split{% endfilter %}")

# --- Filters --------------------------------------------------------------------------------------------------
PEOPLE = [
    {"name": "bob", "age": 30, "role": "user"},
    {"name": "Alice", "age": 25, "role": "assistant"},
    {"name": "carol", "age": 35, "role": "user", "extra": True},
]
case("f_trim", "[{{ '  a b \\n' | trim }}][{{ 'xxaxx' | trim('x') }}][{{ 5 | trim }}]")
case("f_case", "{{ 'hello World' | upper }} {{ 'HeLLo' | lower }} {{ 'hello world-foo (bar) x_y' | title }} {{ 'hELLO wORLD' | capitalize }}")
case("f_title_apostrophe", "{{ \"they're bill's friends\" | title }} {{ \"they're bill's\".title() }}")
case("f_length", "{{ 'héllo' | length }} {{ [1, 2] | length }} {{ {'a': 1} | length }} {{ missing | length }} {{ [1, 2, 3] | count }}")
case("f_first_last", "{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ 'abc' | first }} {{ 'abc' | last }} [{{ [] | first }}] {{ {'k': 1, 'j': 2} | first }}")
case("f_join", "{{ [1, 2, 3] | join(', ') }} {{ ['a', 'b'] | join }} {{ people | join('/', attribute='name') }}", people=PEOPLE)
case("f_default", "{{ missing | default('dflt') }} {{ '' | default('empty') }}|{{ '' | default('empty', true) }} {{ none | default('n') }} {{ none | d('n', boolean=true) }} {{ 0 | d(5, true) }} {{ 'v' | d('x') }}")
case("f_default_chain", "{{ x.missing | default(x.other) }}", x={"other": "fallback"})
case("f_replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'abc' | replace('', '-') }} {{ 123 | replace(2, 9) }}")
case("f_tojson_basic", "{{ x | tojson }}", x={"b": 1, "a": [1, 2.5, None, True, "s"], "nested": {"k": "v"}})
case("f_tojson_indent", "{{ x | tojson(indent=2) }}", x={"name": "f", "params": {"type": "object", "properties": {}}, "list": [1, [2, 3]], "empty": []})
case("f_tojson_indent_string", "{{ x | tojson(indent='\\t') }}", x={"a": [1]})
case("f_tojson_unicode", "{{ 'héllo \"q\" \\\\ \\n \\t 😀 \\u2028 \\x01' | tojson }}")
case("f_tojson_ensure_ascii", "{{ 'héllo 😀' | tojson(ensure_ascii=true) }}")
case("f_tojson_separators", "{{ x | tojson(separators=(',', ':')) }}", x={"a": [1, 2], "b": "c"})
case("f_tojson_sort_keys", "{{ x | tojson(sort_keys=true) }}", x={"b": 1, "a": 2, "C": 3})
case("f_tojson_scalars", "{{ 1 | tojson }} {{ 1.0 | tojson }} {{ none | tojson }} {{ true | tojson }} {{ 'x' | tojson }} {{ [] | tojson }} {{ {} | tojson }} {{ 1e20 | tojson }}")
case("f_tojson_indent_zero", "{{ [1, 2] | tojson(indent=0) }}")
case("f_tojson_ordered_tools", "{% for t in tools %}{{ t | tojson }}\n{% endfor %}", tools=[{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "City"}, "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["location"]}}}])
case("f_string", "{{ 1 | string }} {{ none | string }} {{ [1, 'a'] | string }} [{{ missing | string }}] {{ (1 | string) ~ 2 }}")
case("f_int", "{{ '42' | int }} {{ '42.7' | int }} {{ 3.9 | int }} {{ -3.9 | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ ' 12 ' | int }} {{ '0x1A' | int(0, 16) }} {{ '1_000' | int }} {{ true | int }} {{ none | int }}")
case("f_float", "{{ '3.5' | float }} {{ 2 | float }} {{ 'x' | float }} {{ 'x' | float(1.5) }} {{ '1e3' | float }} {{ ' 2 ' | float }}")
case("f_list", "{{ 'abc' | list }} {{ {'a': 1, 'b': 2} | list }} {{ [1] | list }} {{ missing | list }}")
case("f_items", "{% for k, v in {'x': 1, 'y': [2]} | items %}{{ k }}={{ v }};{% endfor %}{{ missing | items | list }}")
case("f_reverse", "{{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }} {{ {'a': 1, 'b': 2} | reverse | list }}")
case("f_sort", "{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }} {{ [3, 1, 2] | sort(reverse=true) }}")
case("f_sort_attribute", "{{ people | sort(attribute='age') | map(attribute='name') | join(',') }} {{ people | sort(attribute='name') | map(attribute='name') | join(',') }} {{ people | sort(attribute='role,age', reverse=true) | map(attribute='name') | join(',') }}", people=PEOPLE)
case("f_sort_stable", "{{ pairs | sort(attribute='k') | map(attribute='v') | join }}", pairs=[{"k": 1, "v": "a"}, {"k": 0, "v": "b"}, {"k": 1, "v": "c"}, {"k": 0, "v": "d"}])
case("f_unique", "{{ [1, 2, 1, 3, 2] | unique | list }} {{ ['a', 'A', 'b'] | unique | list }} {{ ['a', 'A', 'b'] | unique(case_sensitive=true) | list }} {{ people | unique(attribute='role') | map(attribute='name') | join(',') }}", people=PEOPLE)
case("f_selectattr", "{{ people | selectattr('role', 'equalto', 'user') | map(attribute='name') | join(',') }} {{ people | rejectattr('role', 'equalto', 'user') | map(attribute='name') | join(',') }} {{ people | selectattr('extra') | map(attribute='name') | list }} {{ people | selectattr('extra', 'defined') | list | length }} {{ people | rejectattr('extra', 'defined') | list | length }}", people=PEOPLE)
case("f_selectattr_messages", "{{ (messages | selectattr('role', 'eq', 'system') | list | length) }} {{ messages | selectattr('role', '==', 'user') | map(attribute='content') | first }}", messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "U1"}, {"role": "user", "content": "U2"}])
case("f_select", "{{ [0, 1, 2, 3, 4] | select('odd') | list }} {{ [0, 1, 2, 3, 4] | reject('odd') | list }} {{ [0, 1, '', 'a', none] | select | list }} {{ [1, 5, 9] | select('gt', 4) | list }} {{ [1, 5, 9] | select('divisibleby', 3) | list }}")
case("f_map", "{{ people | map(attribute='age') | list }} {{ ['a', 'b'] | map('upper') | list }} {{ [' a ', 'b '] | map('trim') | join('|') }} {{ people | map(attribute='extra', default='no') | list }} {{ [1.5, 2.5] | map('round') | list }}", people=PEOPLE)
case("f_map_nested_attribute", "{{ xs | map(attribute='a.b') | list }} {{ xs | map(attribute='c.0') | list }}", xs=[{"a": {"b": 1}, "c": [7]}, {"a": {"b": 2}, "c": [8]}])
case("f_min_max_sum", "{{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ ['b', 'A', 'c'] | min }} {{ ['b', 'A', 'c'] | max }} {{ [1, 2, 3] | sum }} {{ [1.5, 2] | sum }} {{ people | sum(attribute='age') }} {{ people | max(attribute='age') | attr('name') }}|{{ people | min(attribute='age') }}", people=PEOPLE[:2])
case("f_min_empty", "[{{ [] | min }}] {{ [1] | sum(start=10) }}")
case("f_abs_round", "{{ -3 | abs }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ 3 | round }} {{ -0.4 | round }} {{ 1234.5678 | round(-2) }} {{ 15 | round(-1) }}")
case("f_center_indent", "[{{ 'ab' | center(7) }}][{{ 'abc' | center(8) }}][{{ 'x' | center(2) }}]\n{{ 'a\\nb\\n\\nc' | indent(2) }}\n{{ 'a\\nb' | indent(4, true) }}\n{{ 'a\\n\\nb' | indent('> ', blank=true) }}\n{{ 'a\\r\\nb' | indent }}")
case("f_wordcount", "{{ 'hello big world' | wordcount }} {{ 'a-b c_d, e' | wordcount }} {{ '' | wordcount }}")
case("f_safe_escape", "{{ '<b>' | safe }} {{ '<a href=\"x\">&\\'</a>' | e }} {{ '<i>' | escape }}")
case("f_format", "{{ '%s-%s' | format('a', 'b') }} {{ '%.3f' | format(3.14159) }} {{ '%(x)s!' | format(x='kw') }} {{ '%5d|' | format(42) }} {{ '%x %o %e' | format(255, 8, 12345.678) }}")
case("f_truncate", "{{ 'hello world foo bar' | truncate(11) }} {{ 'hello world foo bar' | truncate(11, true) }} {{ 'short' | truncate(20) }} {{ 'hello world foo bar' | truncate(11, false, '…', 0) }}")
case("f_batch_dictsort", "{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | batch(2, 'x') | list }} {{ {'b': 1, 'a': 2, 'C': 0} | dictsort | map('list') | list }} {% for k, v in {'b': 1, 'a': 2} | dictsort(by='value', reverse=true) %}{{ k }}={{ v }};{% endfor %}")
case("f_attr", "{% set ns = namespace(a=5) %}{{ ns | attr('a') }} [{{ d | attr('k') }}] {{ 'x' | attr('upper') is callable }}", d={"k": 1})
case("f_chain_on_expression", "{{ messages[0]['content'] | trim + '!' }} {{ -3 | abs }} {{ 'a' ~ 'b' | upper }}", messages=[{"content": "  hi  "}])
case("f_undefined_inputs", "[{{ missing | upper }}][{{ missing | trim }}][{{ missing | join(',') }}][{{ missing | first }}][{{ missing | default('d') }}][{{ missing | reverse | list }}]")

case("gen_consumed_once", "{% set g = xs | map('upper') %}{{ g | list }}{{ g | list }}|{% set r = xs | reverse %}{{ r | join }}{{ r | join }}", xs=["a", "b"])
case("gen_always_true", "{% if [] | select %}T{% else %}F{% endif %}{% if [] | map('upper') %}T{% endif %}{% if {} | items %}T{% endif %}{% if [] | unique %}T{% endif %}")
case("gen_first_consumes_one", "{% set g = xs | select %}{{ g | first }}{{ g | list }}", xs=[0, 1, 2, 3])
case("gen_in_consumes", "{% set g = xs | map('string') %}{{ '2' in g }}{{ g | list }}", xs=[1, 2, 3])
case("gen_lazy_errors", "{% set g = 5 | map('upper') %}ok {{ (5 | batch(2)) is defined }} {{ none | map('upper') | list }} {{ 5 | select is iterable }} {{ xs | reverse is sequence }}", xs=[1])
case("gen_loop_and_filters", "{% for x in xs | selectattr('k') %}{{ loop.index }}/{{ loop.length }}{{ x.k }} {% endfor %}{{ xs | map(attribute='k') | select | sort | join(',') }}", xs=[{"k": 2}, {"k": 0}, {"k": 1}])
case("safe_is_string", "{{ [1, 2] | safe | length }} {{ none | safe }} {{ (1 | safe) ~ 2 }}")
case("err_gen_length", "{{ xs | select | length }}", xs=[1])
case("err_gen_last", "{{ xs | unique | last }}", xs=[1])
case("err_gen_tojson", "{{ xs | select | tojson }}", xs=[1])
case("err_gen_lazy_error_when_read", "{% set g = 5 | map('upper') %}{{ g | list }}")
case("err_percent_tuple_extra", "{{ '%s' % (1, 2) }}")
case("percent_list_is_one_argument", "{{ '%s' % [1, 2] }} {{ 'none' % [1] }} {{ '%s' % none }} {{ '%s-%s' % ('a', none) }}")
case("err_format_extra_argument", "{{ 'x' | format(1) }}")

# --- Tests ----------------------------------------------------------------------------------------------------
case("t_defined", "{{ x is defined }} {{ missing is defined }} {{ missing is undefined }} {{ x is not defined }} {{ none is defined }}", x=1)
case("t_none_bool", "{{ none is none }} {{ 0 is none }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ true is boolean }} {{ 1 is boolean }}")
case("t_types", "{{ 1 is integer }} {{ 1.0 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 'a' is number }} {{ 'a' is string }} {{ 1 is string }}")
case("t_containers", "{{ {} is mapping }} {{ [] is mapping }} {{ [] is sequence }} {{ 'a' is sequence }} {{ {} is sequence }} {{ 1 is sequence }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ none is iterable }}")
case("t_undefined_containers", "{{ missing is sequence }} {{ missing is iterable }} {{ missing is mapping }} {{ missing is string }} {{ missing is number }} {{ missing is none }}")
case("t_numbers", "{{ 3 is odd }} {{ 3 is even }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 0 is even }} {{ -3 is odd }}")
case("t_comparisons", "{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 'a' is ne 'b' }} {{ 3 is gt 2 }} {{ 3 is ge 3 }} {{ 2 is lt 1 }} {{ 2 is le 2 }} {{ 2 is greaterthan 1 }} {{ 1 is lessthan 2 }}")
case("t_in_sameas", "{{ 1 is in [1, 2] }} {{ 'a' is in 'abc' }} {{ none is sameas none }} {{ true is sameas true }} {{ 1 is sameas true }}")
case("t_string_case", "{{ 'abc' is lower }} {{ 'Abc' is lower }} {{ 'ABC' is upper }} {{ '123' is upper }} {{ 'a1' is lower }}")
case("t_callable_filter_test", "{{ raise_exception is callable }} {{ 'x' is callable }} {{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }} {{ 'x'.upper is callable }}")
case("t_not_precedence", "{{ not x is defined }} {{ x is not none and x > 0 }} {{ 1 + 1 is number }}", x=3)
case("t_test_binds_tight", "{{ 'a' ~ 'b' is string }} {{ 1 + [2] | length }}")

# --- Methods --------------------------------------------------------------------------------------------------
case("m_strip", "[{{ '  a  '.strip() }}][{{ '  a  '.lstrip() }}][{{ '  a  '.rstrip() }}][{{ 'xxaxx'.strip('x') }}][{{ '\\n\\t a \\u3000'.strip() }}]")
case("m_starts_ends", "{{ 'hello'.startswith('he') }} {{ 'hello'.startswith('lo') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.startswith('l', 2) }}")
case("m_split", "{{ 'a,b,,c'.split(',') }} {{ '  a  b c '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a b c'.split(none, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'l1\\nl2\\r\\nl3'.splitlines() }} {{ ''.split(',') }} {{ ''.split() }}")
case("m_replace_case", "{{ 'aaa'.replace('a', 'b', 1) }} {{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'HeLLo'.swapcase() }}")
case("m_find_count", "{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ 'hello'.index('e') }} {{ 'héllo'.find('l') }}")
case("m_join_format", "{{ ', '.join(['a', 'b']) }} {{ '{} and {}'.format('x', 'y') }} {{ '{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='N') }} {{ '{:>5}|{:<4}|{:^6}|'.format('r', 'l', 'c') }} {{ '{:.2f} {:d} {:,}'.format(3.14159, 42, 1234567) }}")
case("m_predicates", "{{ '123'.isdigit() }} {{ '12a'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'ab1'.isalnum() }} {{ '  '.isspace() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }} {{ ''.isdigit() }}")
case("m_pad_partition", "[{{ 'ab'.center(6, '*') }}][{{ 'ab'.ljust(4) }}][{{ 'ab'.rjust(4, '.') }}][{{ '42'.zfill(5) }}][{{ '-42'.zfill(5) }}] {{ 'a=b=c'.partition('=') | list }} {{ 'a=b=c'.rpartition('=') | join('|') }}")
case("m_remove_affix", "{{ 'prefix_name'.removeprefix('prefix_') }} {{ 'name.txt'.removesuffix('.txt') }} {{ 'abc'.removeprefix('x') }}")
case("m_dict", "{% for k, v in d.items() %}{{ k }}:{{ v }} {% endfor %}{{ d.keys() | list }} {{ d.values() | list }} {{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }}", d={"b": 1, "a": 2})
case("m_list", "{{ xs.index(20) }} {{ xs.count(10) }}", xs=[10, 20, 10])
case("m_on_message_content", "{% for m in messages %}{{ m.content.strip() | upper }}{{ m['content'].split(' ')[0] }};{% endfor %}", messages=[{"content": " hi there "}, {"content": "yo  "}])
case("m_chained", "{{ ' A,b '.strip().lower().split(',') | join('+') }}")

# --- Globals --------------------------------------------------------------------------------------------------
case("g_range", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }}")
case("g_dict", "{{ dict(a=1, b='x') }} {{ dict({'k': 1}, j=2) }} {{ dict([['p', 1]]) }}")
case("g_strftime_defined", "{{ strftime_now is defined }} {{ raise_exception is defined }} {{ namespace is defined }}")
case("g_hf_variables", "[{{ tools }}][{{ documents }}] {{ tools is none }} {{ tools is defined }}", tools=None, documents=None)
case("g_calls_with_splat", "{% set args = ['a', 'b'] %}{{ '{}{}'.format(*args) }} {{ dict(**{'k': 1}) }}")

# --- Errors ---------------------------------------------------------------------------------------------------
case("err_syntax_unclosed_if", "a\n{% if true %}\nb\n")
case("err_syntax_unclosed_for", "{% for x in xs %}\n{{ x }}", xs=[1])
case("err_syntax_unknown_tag", "line1\n{% frobnicate %}")
case("err_syntax_endif_without_if", "{% for x in [1] %}{% endif %}")
case("err_syntax_bad_expression", "{{ 1 + }}")
case("err_syntax_empty_expression", "a\n{{ }}")
case("err_syntax_empty_block", "{% %}")
case("err_syntax_unexpected_char", "{{ 1 ! 2 }}")
case("err_syntax_unterminated_string", "{{ 'abc }}")
case("err_syntax_unbalanced_paren", "line1\nline2\n  {{ foo( }}")
case("err_syntax_unclosed_variable", "{{ x ")
case("err_syntax_unclosed_comment", "a {# never closed")
case("err_syntax_missing_endmacro", "{% macro m() %}x")
case("err_syntax_break_outside_loop", "{% break %}")
case("err_syntax_else_twice", "{% if a %}1{% else %}2{% else %}3{% endif %}", a=True)
case("err_syntax_set_without_value", "{% set %}")
case("err_syntax_chained_is", "{{ 1 is number is number }}")
case("err_syntax_assign_to_const", "{% set true = 1 %}")
case("err_syntax_multiline", "{% if a %}\n  ok\n{% elif %}\n{% endif %}", a=True)
case("err_unknown_filter", "a\n{{ x | frobnicate }}", x=1)
case("err_unknown_filter_in_if_not_run", "{% if false %}{{ x | frobnicate }}{% endif %}ok")
case("err_unknown_filter_in_if_run", "{% if true %}\n{{ x | frobnicate }}{% endif %}", x=1)
case("err_unknown_filter_in_loop", "{% for i in [1] %}{{ i | frobnicate }}{% endfor %}")
case("err_unknown_filter_in_cond_expr", "{{ (x | frobnicate) if false else 'ok' }}", x=1)
case("err_unknown_test", "{{ 1 is frobnicated }}")
case("err_unknown_test_in_if_not_run", "{% if false and 1 is frobnicated %}x{% endif %}ok")
case("err_raise_exception", "a\n{% if true %}\n{{ raise_exception('Conversation roles must alternate!') }}{% endif %}")
case("err_raise_in_loop", "{% for m in messages %}\n{% if m.role == 'bad' %}\n{{ raise_exception('bad role: ' + m.role) }}\n{% endif %}\n{% endfor %}", messages=[{"role": "user"}, {"role": "bad"}])
case("err_raise_in_macro", "{% macro check(x) %}\n{{ raise_exception('nope ' ~ x) }}\n{% endmacro %}\nline4\n{{ check(1) }}")
case("err_undefined_attr_of_undefined", "line1\n{{ missing.attr }}")
case("err_undefined_item_of_undefined", "{{ missing['k'] }}")
case("err_undefined_nested", "{{ x.a.b.c }}", x={"a": {}})
case("err_undefined_add", "{{ missing + 1 }}")
case("err_undefined_call", "{{ missing() }}")
case("err_undefined_method_call", "{{ 'abc'.nomethod() }}")
case("err_undefined_compare", "{{ missing < 1 }}")
case("err_undefined_tojson", "{{ missing | tojson }}")
case("err_undefined_int", "{{ missing | int }}")
case("err_undefined_in_set", "{% set x = missing.attr %}")
case("err_undefined_cond_expr_attr", "{{ ('a' if false).upper() }}")
case("err_type_str_plus_int", "a\nb\n{{ 'a' + 1 }}")
case("err_type_int_plus_str", "{{ 1 + 'a' }}")
case("err_type_list_plus_str", "{{ [1] + 'a' }}")
case("err_type_compare", "{{ 'a' < 1 }}")
case("err_type_compare_none", "{{ none < 1 }}")
case("err_type_zero_division", "{{ 1 / 0 }}")
case("err_type_zero_floordiv", "{{ 1 // 0 }}")
case("err_type_zero_mod", "{{ 5 % 0 }}")
case("err_type_iterate_int", "line1\n{% for x in 5 %}{% endfor %}")
case("err_type_iterate_none", "{% for x in none %}{% endfor %}")
case("err_type_in_int", "{{ 1 in 5 }}")
case("err_type_in_string_int", "{{ 1 in 'abc' }}")
case("err_type_not_callable", "{{ 'abc'() }}")
case("err_type_length_int", "{{ 5 | length }}")
case("err_type_sort_mixed", "{{ [1, 'a'] | sort }}")
case("err_type_join_method_non_string", "{{ ','.join([1, 2]) }}")
case("err_type_items_non_mapping", "{{ [1] | items | list }}")
case("err_type_unpack", "{% set a, b = [1, 2, 3] %}")
case("err_type_namespace_assign", "{% set x = 1 %}{% set x.attr = 2 %}")
case("err_type_sandbox_append", "{{ messages.append(1) }}", messages=[])
case("err_type_sandbox_update", "{{ d.update({'a': 1}) }}", d={})
case("err_type_tojson_namespace", "{{ namespace(a=1) | tojson }}")
case("err_type_negate_string", "{{ -'a' }}")
case("err_type_slice_step_zero", "{{ [1, 2][::0] }}")
case("err_type_macro_line", "{% macro m(x) %}\n\n{{ x + 'a' }}\n{% endmacro %}\n{{ m(1) }}")

# --- Chat templates in the style of real models (written for these tests; the exact Hub templates are under
# Tests/Fixtures/chat-templates) --------------------------------------------------------------------------------
CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
    "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)
LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
LLAMA31 = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
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
MISTRAL1 = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
MISTRAL3 = """{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\\n\\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
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
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)
PHI3 = (
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"
)
DEEPSEEK = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}"
    "{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}"
    "{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}"
    "{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}"
    "{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor -%}"
    "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name, e.g. Paris"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}
CONVERSATIONS = {
    "user": [{"role": "user", "content": "Hello!"}],
    "system": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "What's 2+2?"},
    ],
    "multi": [
        {"role": "user", "content": "  Tell me a joke.  "},
        {"role": "assistant", "content": "Why did the chicken cross the road?\n"},
        {"role": "user", "content": "Why? ü 😀 \"quoted\" {braces} {{ not jinja }}"},
    ],
    "bad_order": [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}],
    "think": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "<think>hmm</think>A"}, {"role": "user", "content": "Q2"}],
}
TOOL_CONVERSATION = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "id": "call12345", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "content": "22 degrees", "tool_call_id": "call12345"},
]
TEMPLATES = {
    "chatml": (CHATML, "", ""),
    "llama2": (LLAMA2, "<s>", "</s>"),
    "llama3": (LLAMA3, "<|begin_of_text|>", "<|eot_id|>"),
    "llama31": (LLAMA31, "<|begin_of_text|>", "<|eot_id|>"),
    "mistral1": (MISTRAL1, "<s>", "</s>"),
    "mistral3": (MISTRAL3, "<s>", "</s>"),
    "qwen25": (QWEN25, "", "<|im_end|>"),
    "gemma": (GEMMA, "<bos>", "<eos>"),
    "phi3": (PHI3, "<s>", "<|endoftext|>"),
    "deepseek": (DEEPSEEK, "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
}
for template_name, (source, bos, eos) in TEMPLATES.items():
    for conversation_name, messages in CONVERSATIONS.items():
        for generation in (True, False):
            case(
                f"chat_{template_name}_{conversation_name}_{'gen' if generation else 'nogen'}",
                source,
                messages=messages,
                add_generation_prompt=generation,
                bos_token=bos,
                eos_token=eos,
                tools=None,
                documents=None,
            )
for template_name in ("llama31", "mistral3", "qwen25"):
    source, bos, eos = TEMPLATES[template_name]
    case(f"chat_{template_name}_tools_defined", source, messages=CONVERSATIONS["user"], add_generation_prompt=True,
         bos_token=bos, eos_token=eos, tools=[WEATHER_TOOL], documents=None)
    case(f"chat_{template_name}_tool_calls", source, messages=TOOL_CONVERSATION, add_generation_prompt=True,
         bos_token=bos, eos_token=eos, tools=[WEATHER_TOOL], documents=None)
case("chat_llama31_system_tools_not_in_user", LLAMA31, messages=CONVERSATIONS["system"], add_generation_prompt=True,
     bos_token="<|begin_of_text|>", tools=[WEATHER_TOOL], tools_in_user_message=False, date_string="01 Jan 2025")
case("chat_llama31_builtin_tools", LLAMA31, messages=CONVERSATIONS["user"], add_generation_prompt=False,
     bos_token="<|begin_of_text|>", builtin_tools=["brave_search", "code_interpreter", "wolfram_alpha"])

# --- Whitespace-control combinations, sampled deterministically ----------------------------------------------------
# Text before and after a tag (at a line start or not, with spaces, tabs and blank lines), every sign on either side
# of block, comment, variable and raw tags.
WS_BEFORE = ["", "a", "a ", "a\n", "a\n  ", "\n", "  ", " \t", "a\n\t \n  ", "{{ 'v' }}  ", "{{ 'v' }}\n  ", "{% if true %}\n  "]
WS_AFTER = ["", "b", "\n", "\nb", "  \n  b", "\n\n", " b\n", "\n  {{ 'w' }}", "\n  {% if true %}c{% endif %}"]
WS_TAGS = [
    "{%{o} if true {c}%}x{%{o} endif {c}%}",
    "{%{o} set y = 1 {c}%}",
    "{#{o} note {c}#}",
    "{{{o} 'x' {c}}}",
    "{%{o} for i in [1, 2] {c}%}\n  {{ i }}\n{%{o} endfor {c}%}",
    "{%{o} raw {c}%} {{ r }} \n{%{o} endraw {c}%}",
]
_rng = random.Random(1234)
_combos = [
    (before, tag, opening, closing, after)
    for before in WS_BEFORE
    for tag in range(len(WS_TAGS))
    for opening in ("", "-", "+")
    for closing in ("", "-", "+")
    for after in WS_AFTER
]
for _index, (_before, _tag, _opening, _closing, _after) in enumerate(sorted(_rng.sample(_combos, 260))):
    if _tag == 3 and _closing == "+":
        _closing = ""  # '+}}' is not a variable end
    _body = WS_TAGS[_tag].replace("{o}", _opening).replace("{c}", _closing)
    if _before.startswith("{% if true %}"):
        _after += "{% endif %}"
    case(f"wsmix_{_index:03d}", _before + _body + _after)

# --- Templates shipped inside transformers (read from the installed package's sources) -----------------------------
def shipped_templates(relative_path: str) -> list:
    """The long Jinja string constants of a transformers source file, in source order."""
    path = os.path.join(os.path.dirname(transformers.__file__), relative_path)
    if not os.path.exists(path):
        return []
    tree = ast.parse(open(path, encoding="utf-8").read())
    strings = [node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    return [node.value for node in sorted(strings, key=lambda n: n.lineno) if "{%" in node.value and len(node.value) > 150]


MULTIMODAL_CONVERSATION = [
    {"role": "system", "content": "You see images."},
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]},
    {"role": "assistant", "content": "A cat."},
    {"role": "user", "content": [{"type": "text", "text": "And this?"}, {"type": "image", "url": "x.png"}]},
]
AUDIO_CONVERSATION = [
    {"role": "user", "content": [{"type": "audio", "audio_url": "a.wav"}, {"type": "text", "text": "What is said?"}]},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": [{"type": "audio", "audio_url": "b.wav"}, {"type": "audio", "audio_url": "c.wav"}, {"type": "text", "text": "Compare."}]},
]
for _source in shipped_templates("models/llama4/processing_llama4.py")[:1]:
    for _name, _messages in [("user", CONVERSATIONS["user"]), ("system", CONVERSATIONS["system"]), ("multi", CONVERSATIONS["multi"]), ("multimodal", MULTIMODAL_CONVERSATION)]:
        for _generation in (True, False):
            case(f"real_llama4_{_name}_{'gen' if _generation else 'nogen'}", _source, messages=_messages,
                 add_generation_prompt=_generation, bos_token="<|begin_of_text|>", tools=None, documents=None)
    case("real_llama4_tools", _source, messages=CONVERSATIONS["system"], add_generation_prompt=True,
         bos_token="<|begin_of_text|>", tools=[WEATHER_TOOL], documents=None)
    case("real_llama4_tools_in_system", _source, messages=CONVERSATIONS["system"], add_generation_prompt=True,
         bos_token="<|begin_of_text|>", tools=[WEATHER_TOOL], tools_in_user_message=False, documents=None)
    case("real_llama4_tool_calls", _source, messages=TOOL_CONVERSATION, add_generation_prompt=True,
         bos_token="<|begin_of_text|>", tools=None, documents=None)
    case("real_llama4_no_messages_with_tools", _source, messages=[], add_generation_prompt=True,
         bos_token="<|begin_of_text|>", tools=[WEATHER_TOOL], documents=None)
for _source in shipped_templates("models/qwen2_audio/processing_qwen2_audio.py")[:1]:
    for _name, _messages in [("system", CONVERSATIONS["system"]), ("audio", AUDIO_CONVERSATION)]:
        case(f"real_qwen2_audio_{_name}", _source, messages=_messages, add_generation_prompt=True, tools=None, documents=None)
for _source in shipped_templates("models/smolvlm/processing_smolvlm.py")[:1]:
    for _name, _messages in [("multi", CONVERSATIONS["multi"]), ("multimodal", MULTIMODAL_CONVERSATION)]:
        case(f"real_smolvlm_{_name}", _source, messages=_messages, add_generation_prompt=True, tools=None, documents=None)
QUESTIONS = [
    {"type": "choice", "instructions": "Which fits?", "options": ["red", "blue", "green"], "labels": ["A", "B", "C"], "descriptions": ["warm", None, ""]},
    {"type": "score", "instructions": None, "options": ["1", "2"], "labels": ["S1", "S2"], "descriptions": [{"low": True}, "high"]},
    {"type": "noul", "instructions": {"ask": "yes?"}, "options": ["false", "true"], "labels": ["N", "Y"], "descriptions": [None, ""]},
]
STATES = ["plain text state", {"k": "v", "n": [1, 2]}, ["part one ", {"type": "text", "text": "two"}, {"x": 1}], None, "",
          [{"type": "text", "text": "look: "}, {"type": "image", "url": "u"}]]
for _index, _source in enumerate(shipped_templates("models/jev/configuration_jev.py")[:2]):
    _settings = "{%- set empty_state = \"(empty)\" -%}\n{%- set closing = \"Reply.\" -%}\n{%- set system = \"Decide.\" -%}\n"
    _source = _source if _index == 0 else _settings + _source
    for _q, _question in enumerate(QUESTIONS):
        for _s, _state in enumerate(STATES):
            case(f"real_jev{_index}_q{_q}_s{_s}", _source, question=_question, state=_state, messages=[], tools=None, documents=None)


def error_kind(error: Exception) -> str:
    """The ChatTemplateError case the Swift engine should throw for a jinja2 exception."""
    message = str(error)
    if isinstance(error, jinja2.exceptions.UndefinedError):
        return "undefined"
    if message.startswith("No filter named"):
        return "unknown_filter"
    if message.startswith("No test named"):
        return "unknown_test"
    if isinstance(error, (jinja2.exceptions.TemplateSyntaxError, SyntaxError)):
        return "syntax"
    if type(error) is jinja2.exceptions.TemplateError:
        return "raise"  # raise_exception(...) raises the base class
    return "type"  # TypeError, ValueError, ZeroDivisionError, SecurityError, other runtime errors


def template_line(error: Exception):
    if isinstance(error, jinja2.exceptions.TemplateSyntaxError):
        return error.lineno
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == "<template>"]
    return lines[-1] if lines else None


def run(name: str, template: str, variables: dict) -> dict:
    case = {"name": name, "template": template, "variables": variables}
    phase = "parse"
    try:
        compiled = _compile_jinja_template(template)
        phase = "render"
        case["output"] = compiled.render(**variables)
    except Exception as error:  # noqa: BLE001 - every failure is a golden
        case["error"] = {"kind": error_kind(error), "phase": phase, "line": template_line(error)}
        if case["error"]["kind"] == "raise":
            case["error"]["message"] = str(error)
    return case


def main() -> None:
    names = set()
    cases = []
    for name, template, variables in CASES:
        assert name not in names, f"duplicate case name {name}"
        names.add(name)
        cases.append(run(name, template, variables))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(
            {"jinja2": jinja2.__version__, "transformers": transformers.__version__, "cases": cases},
            f,
            ensure_ascii=False,
            indent=1,
        )
        f.write("\n")
    errors = sum(1 for case in cases if "error" in case)
    print(f"wrote {len(cases)} cases ({errors} errors) to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
