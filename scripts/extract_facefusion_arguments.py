#!/usr/bin/env python3
"""Lists every argument FaceFusion's `headless-run` and `batch-run` accept, read from its source.

FaceFusion cannot be imported here (it needs its own runtime and models), so its parser is read
statically: `facefusion/program.py` builds each command from small `create_*_program` functions
(and `collect_*_program` bundles of them), and every processor module adds its own arguments in
`register_args`. This script walks those definitions with Python's `ast` and writes, per command,
each argument's option strings, group, nargs, type, action, choices and default as FaceFusion
wrote them. Swapline's tests feed every name to `swapline headless-run` (each must be accepted or
refused by name).

Usage (from a FaceFusion checkout, or a bare mirror plus a tag):
  scripts/extract_facefusion_arguments.py --source ~/facefusion > Tests/Data/facefusion_3.8.1_arguments.json
  scripts/extract_facefusion_arguments.py --git-dir facefusion.git --tag 3.8.1 > Tests/Data/facefusion_3.8.1_arguments.json
"""
import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path

COMMANDS = ("headless-run", "batch-run")


class Source:
    def __init__(self, checkout=None, git_dir=None, tag=None):
        self.checkout, self.git_dir, self.tag = checkout, git_dir, tag

    def read(self, path):
        if self.checkout:
            return (Path(self.checkout) / path).read_text()
        return subprocess.run(["git", "--git-dir", self.git_dir, "show", f"{self.tag}:{path}"],
                              capture_output=True, text=True, check=True).stdout

    def processor_modules(self):
        if self.checkout:
            folder = Path(self.checkout) / "facefusion/processors/modules"
            return sorted(p.name for p in folder.iterdir() if (p / "core.py").exists())
        listing = subprocess.run(["git", "--git-dir", self.git_dir, "ls-tree", "--name-only", f"{self.tag}:facefusion/processors/modules"],
                                 capture_output=True, text=True, check=True).stdout.split()
        return sorted(name for name in listing if not name.endswith(".py"))


def keyword(call, name):
    for item in call.keywords:
        if item.arg == name:
            return item.value
    return None


def arguments_in(function):
    """The add_argument calls of one function: option strings and how they parse."""
    groups = {}   # variable name -> group title
    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute) \
                and node.value.func.attr == "add_argument_group" and node.value.args and isinstance(node.targets[0], ast.Name):
            groups[node.targets[0].id] = node.value.args[0].value
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"):
            continue
        names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if not names or not names[0].startswith("-"):
            continue   # positional (job ids and the like): not part of headless-run / batch-run
        owner = node.func.value.id if isinstance(node.func.value, ast.Name) else None
        entry = {"names": names, "group": groups.get(owner, "")}
        for field in ("nargs", "action"):
            value = keyword(node, field)
            entry[field] = value.value if isinstance(value, ast.Constant) else None
        kind = keyword(node, "type")
        entry["type"] = ast.unparse(kind) if kind is not None else None
        for field in ("choices", "default"):
            value = keyword(node, field)
            entry[field] = ast.unparse(value) if value is not None else None
        found.append(entry)
    return found


def parents_of(call):
    parents = keyword(call, "parents")
    if not isinstance(parents, ast.List):
        return []
    return [item.func.id for item in parents.elts if isinstance(item, ast.Call) and isinstance(item.func, ast.Name)]


def extract(source):
    program = ast.parse(source.read("facefusion/program.py"))
    functions = {node.name: node for node in program.body if isinstance(node, ast.FunctionDef)}
    processors = []
    for module in source.processor_modules():
        tree = ast.parse(source.read(f"facefusion/processors/modules/{module}/core.py"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "register_args":
                for entry in arguments_in(node):
                    entry["processor"] = module
                    processors.append(entry)

    def expand(name):
        function = functions[name]
        entries = arguments_in(function)
        if name == "create_processors_program":
            entries += processors   # it calls every processor module's register_args
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ArgumentParser":
                for parent in parents_of(node):
                    entries += expand(parent)
        return entries

    commands = {}
    for node in ast.walk(functions["create_program"]):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_parser" \
                and node.args and node.args[0].value in COMMANDS:
            entries = []
            for parent in parents_of(node):
                entries += expand(parent)
            commands[node.args[0].value] = entries
    return commands


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", help="a FaceFusion checkout")
    parser.add_argument("--git-dir", help="a FaceFusion git repository (bare is fine)")
    parser.add_argument("--tag", default="3.8.1")
    args = parser.parse_args()
    if not args.source and not args.git_dir:
        parser.error("give --source or --git-dir")
    source = Source(args.source, args.git_dir, args.tag)
    commands = extract(source)
    missing = [c for c in COMMANDS if c not in commands]
    if missing:
        sys.exit(f"not found in program.py: {', '.join(missing)}")
    json.dump({"facefusion": args.tag, "commands": commands}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
