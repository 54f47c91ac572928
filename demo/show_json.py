#!/usr/bin/python3
"""Prints the JSON answer on stdin indented and trimmed for the demo's screen: a list longer than --items keeps
its first items and says how many it left out (the rows of an answer; other lists stay whole), and a list or object of plain values (a row, a column) that fits
on one line is printed on one line. Anything that is not JSON is printed as it came."""
import argparse
import json
import sys


def trim(value, items, trimmed=True):
    """Lists of rows (under a key "rows", or the whole answer) keep their first items; others stay whole."""
    if isinstance(value, list):
        kept = [trim(item, items, False) for item in (value[:items] if trimmed else value)]
        if trimmed and len(value) > items:
            kept.append(f"... {len(value) - items} more")
        return kept
    if isinstance(value, dict):
        return {key: trim(item, items, key == "rows") for key, item in value.items()}
    return value


def flat(value):
    return not isinstance(value, (list, dict)) or all(not isinstance(v, (list, dict))
                                                          for v in (value.values() if isinstance(value, dict) else value))


def render(value, indent=0):
    one_line = json.dumps(value, ensure_ascii=False)
    if flat(value) and len(one_line) + indent <= 110:
        return one_line
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        inner = [f"{pad}{json.dumps(k)}: {render(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(inner) + "\n" + " " * indent + "}" if inner else "{}"
    if isinstance(value, list):
        inner = [pad + render(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(inner) + "\n" + " " * indent + "]" if inner else "[]"
    return one_line


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=3, help="items kept of each list of rows")
    text = sys.stdin.read(4 * 1024 * 1024)
    args = parser.parse_args()
    try:
        answer = json.loads(text)
    except ValueError:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    print(render(trim(answer, args.items)))


if __name__ == "__main__":
    main()
