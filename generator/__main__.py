"""CLI: `python -m generator [generate|check|diff]` (see API.md §1). Exit 0 ok, 1 drift, 2 bad input
or an output that cannot be written (disk full, read-only, closed pipe); never a traceback for those."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import __version__, prestart
from .errors import SpecError
from .limits import DEFAULT_MAX_SPEC_BYTES, Limits
from .safe import escape_controls


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Generate a typed Python client from an OpenAPI 3 document. With no command: regenerate "
        "the project's package ([tool.kibo-codegen] in pyproject.toml, else this checkout's spec/ → generated/).",
    )
    parser.add_argument("--version", action="version", version=f"kibo-codegen {__version__}")
    _add_run_options(parser)
    commands = parser.add_subparsers(dest="command")
    generate = commands.add_parser("generate", help="generate a package from any OpenAPI 3.0/3.1 file")
    generate.add_argument("spec", type=Path)
    generate.add_argument("-o", "--output", type=Path, required=True, help="directory that receives NAME/")
    generate.add_argument(
        "--package-name",
        help="package name (default: the spec's info.x-package-name, else derived from info.title)",
    )
    _add_run_options(generate)
    generate.add_argument(
        "--http-library",
        choices=("httpx", "httpx2"),
        help="what the generated package imports for HTTP (default: httpx; httpx2 needs Python >= 3.11)",
    )
    check = commands.add_parser("check", help="exit 1 when the committed output differs from what the spec gives")
    check.add_argument("spec", type=Path, nargs="?")
    check.add_argument("-o", "--output", type=Path)
    check.add_argument("--package-name")
    check.add_argument("--http-library", choices=("httpx", "httpx2"))
    _add_limit_options(check)
    diff = commands.add_parser(
        "diff", help="what changed in the generated client's API: breaking or compatible changes"
    )
    diff.add_argument("old_spec", type=Path, metavar="OLD_SPEC")
    diff.add_argument("new_spec", type=Path, metavar="NEW_SPEC")
    diff.add_argument("--format", choices=("text", "json"), default="text", help="default: text")
    diff.add_argument("--fail-on-breaking", action="store_true", help="exit 1 on a breaking change")
    diff.add_argument("--package-name", help="for both sides (default: from NEW_SPEC's info.title)")
    diff.add_argument(
        "--drop-deprecated", action="store_true", help="as if regenerated with --drop-deprecated (no aliases)"
    )
    _add_limit_options(diff)
    return parser


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-spec-bytes",
        type=int,
        default=argparse.SUPPRESS,
        help=f"largest spec (and $ref'd) file read, in bytes (default {DEFAULT_MAX_SPEC_BYTES})",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        default=argparse.SUPPRESS,
        help="every validator finding is an error (by default harmless ones are warnings)",
    )
    parser.add_argument(
        "--ref-root",
        type=Path,
        default=argparse.SUPPRESS,
        help="directory external $refs may reach (default: the spec's own directory)",
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        default=argparse.SUPPRESS,
        help="replace OUT/NAME even when it holds files the generator did not write",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="print nothing but errors"
    )
    parser.add_argument(
        "--drop-deprecated",
        action="store_true",
        default=argparse.SUPPRESS,
        help="remove the deprecated aliases that keep renamed names working (a breaking change)",
    )
    _add_limit_options(parser)


def _limits(args: argparse.Namespace) -> Limits:
    max_bytes = getattr(args, "max_spec_bytes", DEFAULT_MAX_SPEC_BYTES)
    if max_bytes <= 0:
        raise SpecError.single("--max-spec-bytes", "must be a positive number of bytes")
    return Limits(
        max_spec_bytes=max_bytes, ref_root=getattr(args, "ref_root", None), strict=bool(getattr(args, "strict", False))
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    prestart.start(args.command, getattr(args, "output", None))
    try:
        return _exit_code(args)
    finally:
        prestart.stop_untaken()  # a run that stopped before its build (a bad spec) stops its helper


def _exit_code(args: argparse.Namespace) -> int:
    try:
        code = _run(args)
        sys.stdout.flush()  # a closed pipe is seen here, not in Python's exit handler
        return code
    except SpecError as exc:
        for problem in exc.problems:
            _print_error(str(problem))
        return 2
    except BrokenPipeError:
        # The reader went away (`... | head`): nothing more can be said; keep Python's exit quiet.
        _silence_stdout()
        return 2
    except RecursionError:
        _print_error("error: the spec is nested too deeply to process")
        return 2
    except OSError as exc:
        place = exc.filename if exc.filename is not None else "output"
        reason = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
        _print_error(f"error: {place}: {reason}")
        return 2


def _run(args: argparse.Namespace) -> int:
    from . import pipeline

    quiet = bool(getattr(args, "quiet", False))
    limits = _limits(args)
    if args.command is None or args.command == "generate":
        if args.command is None:
            from .project import find_project

            project = find_project(Path.cwd())
            spec, out, name, library = project.spec, project.output, project.package_name, project.http_library
            pins = project.pins
        else:
            from .project import pins_for

            spec, out, name, library = args.spec, args.output, args.package_name, args.http_library
            pins = pins_for(spec, Path.cwd())
        summary = pipeline.generate(
            spec,
            out,
            name,
            limits=limits,
            force=bool(getattr(args, "force", False)),
            quiet=quiet,
            http_library=library,
            pins=pins,
            drop_deprecated=bool(getattr(args, "drop_deprecated", False)),
        )
        if not quiet:
            _print_lines(summary.warnings, sys.stderr)
            _print_lines(summary.lines())
        return 0
    if args.command == "check":
        from .project import find_project, pins_for

        spec, out, name, library = args.spec, args.output, args.package_name, args.http_library
        if spec is None:
            project = find_project(Path.cwd())
            spec, out = project.spec, out or project.output
            name, library = name or project.package_name, library or project.http_library
        elif out is None:
            try:
                out = find_project(Path.cwd()).output
            except SpecError:
                out = Path.cwd() / "generated"
        drift = pipeline.check(spec, out, name, limits=limits, http_library=library, pins=pins_for(spec, Path.cwd()))
        if drift:
            print(escape_controls(f"check: {len(drift)} file(s) differ from what {spec} gives now:"))
            for path in drift:
                print(f"  {escape_controls(path)}")
            print("run `python -m generator` to regenerate")
            return 1
        print("check: generated output is up to date")
        return 0
    if args.command == "diff":
        from .diff import diff_specs

        report = diff_specs(
            args.old_spec, args.new_spec, args.package_name, limits=limits, drop_deprecated=args.drop_deprecated
        )
        if args.format == "json":
            print(report.to_json(), end="")
        else:
            _print_lines(report.text().splitlines())
        return 1 if args.fail_on_breaking and report.breaking else 0
    return 2


def _print_lines(lines: Sequence[str], stream: TextIO | None = None) -> None:
    """Lines on stdout (or `stream`); spec text in them cannot move the cursor or recolour the terminal."""
    for line in lines:
        print(escape_controls(line), file=stream or sys.stdout)


def _print_error(line: str) -> None:
    with contextlib.suppress(OSError):
        _print_lines([line], sys.stderr)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
