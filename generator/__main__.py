"""CLI: `python -m generator [generate|check|diff]` (see API.md §1). Exit 0 ok, 1 drift, 2 bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import SpecError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Generate a typed Python client from an OpenAPI 3 document. "
        "With no command: regenerate generated/ from spec/.",
    )
    commands = parser.add_subparsers(dest="command")
    generate = commands.add_parser("generate", help="generate a package from any OpenAPI 3.0/3.1 file")
    generate.add_argument("spec", type=Path)
    generate.add_argument("-o", "--output", type=Path, required=True, help="directory that receives NAME/")
    generate.add_argument("--package-name", help="package name (default: derived from info.title)")
    check = commands.add_parser("check", help="exit 1 when the committed output differs from what the spec gives")
    check.add_argument("spec", type=Path, nargs="?")
    check.add_argument("-o", "--output", type=Path)
    check.add_argument("--package-name")
    diff = commands.add_parser(
        "diff", help="what changed in the generated client's API: breaking or compatible changes"
    )
    diff.add_argument("old_spec", type=Path, metavar="OLD_SPEC")
    diff.add_argument("new_spec", type=Path, metavar="NEW_SPEC")
    diff.add_argument("--format", choices=("text", "json"), default="text", help="default: text")
    diff.add_argument("--fail-on-breaking", action="store_true", help="exit 1 on a breaking change")
    diff.add_argument("--package-name", help="for both sides (default: from NEW_SPEC's info.title)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import pipeline

    try:
        if args.command is None:
            summary = pipeline.generate(pipeline.default_spec(), pipeline.default_output(), pipeline.DEFAULT_PACKAGE)
            _print_warnings(summary.warnings)
            print("\n".join(summary.lines()))
            return 0
        if args.command == "generate":
            summary = pipeline.generate(args.spec, args.output, args.package_name)
            _print_warnings(summary.warnings)
            print("\n".join(summary.lines()))
            return 0
        if args.command == "check":
            out = args.output or pipeline.default_output()
            if args.spec is None:
                spec, name = pipeline.default_spec(), pipeline.DEFAULT_PACKAGE
            else:
                spec, name = args.spec, None
            drift = pipeline.check(spec, out, args.package_name or name)
            if drift:
                print(f"check: {len(drift)} file(s) differ from what {spec} gives now:")
                for path in drift:
                    print(f"  {path}")
                print("run `python -m generator` to regenerate")
                return 1
            print("check: generated output is up to date")
            return 0
        if args.command == "diff":
            return _diff(args)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    return 2


def _diff(args: argparse.Namespace) -> int:
    from .diff import diff_specs

    report = diff_specs(args.old_spec, args.new_spec, args.package_name)
    print(report.to_json() if args.format == "json" else report.text(), end="")
    return 1 if args.fail_on_breaking and report.breaking else 0


def _print_warnings(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
