"""Render Handlebars templates with handlebars.js 4.7.8.

The differential template tests pipe generated cases through this script, so
the JavaScript implementation checks what the Swift engine renders. The PyPI
package `handlebars` is handlebars.js 4.7.8 translated to Python by js2py.

Each line of standard input is one JSON object:
    {"template": "...", "partials": {"name": "..."}, "data": <any JSON>}
Standard output gets one JSON object per input line, in order: {"output": "..."}
when rendering succeeds, or {"error": "..."} when handlebars.js throws.
"""

import contextlib
import json
import sys

from handlebars import Handlebars


def sorted_keys(value):
    """Return `value` with every object's keys in code point order.

    js2py visits object keys in the Python dict's insertion order, and the Swift
    document store visits them in code point order, so both must see that order.
    """
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(element) for element in value]
    return value


def render(case: dict, registered: list) -> dict:
    for name in registered:
        Handlebars.unregisterPartial(name)
    registered.clear()

    for name, source in case.get("partials", {}).items():
        Handlebars.registerPartial(name, source)
        registered.append(name)

    try:
        # handlebars.js compiles lazily, so syntax errors surface on the first call. Its
        # warnings (console.log, which js2py prints) go to standard error, not into the results.
        with contextlib.redirect_stdout(sys.stderr):
            template = Handlebars.compile(case["template"])
            output = template(sorted_keys(case.get("data")))
    except Exception as error:  # js2py raises JsException, and Python errors from js2py itself
        return {"error": f"{type(error).__name__}: {error}"}

    if not isinstance(output, str):
        return {"error": f"the template returned {type(output).__name__}, not a string"}
    return {"output": output}


def main() -> int:
    # The Swift side writes and reads UTF-8, whatever the locale is.
    sys.stdin.reconfigure(encoding="utf-8")
    sys.stdout.reconfigure(encoding="utf-8")
    registered: list = []
    for line in sys.stdin:
        if not line.strip():
            continue
        result = render(json.loads(line), registered)
        try:
            text = json.dumps(result, ensure_ascii=False)
            text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate has no UTF-8 form, and the Swift JSON parser rejects its escape.
            text = json.dumps({"error": "the output contains a lone UTF-16 surrogate"})
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
