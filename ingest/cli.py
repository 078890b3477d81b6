"""The `wirewatch` command line: run, subscribe, feeds, rules check, rules test, web, notify."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import (
    BlockedAddress,
    ConfigError,
    ModelError,
    OpmlError,
    StoreError,
    WirewatchError,
)
from ingest.models import FullText
from ingest.settings import Settings

if TYPE_CHECKING:
    from ingest.parse.feedlinks import FeedLink

log = logging.getLogger("wirewatch")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ALL_DESTINATIONS = "\0all"  # `notify --test` without an ID


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch", description="Poll news sources, match rules, alert on Redis channels."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the service (or one poll with --once)")
    run.add_argument("--once", action="store_true", help="poll every source once, publish, exit")
    run.add_argument(
        "--role",
        choices=["all", "fetch", "match"],
        default="all",
        help="fetch: poll and hand articles to match workers; match: NLP and alerts only",
    )

    sub = commands.add_parser("subscribe", help="print alerts as JSON lines")
    sub.add_argument("channels", nargs="+", metavar="CHANNEL")
    sub.add_argument("--pattern", action="store_true", help="CHANNEL is a glob (alerts:*)")
    sub.add_argument("--count", type=int, metavar="N", help="stop after N alerts")
    sub.add_argument("--timeout", type=float, metavar="S", help="stop after S seconds in all")
    sub.add_argument("--replay", action="store_true", help="first print what the stream holds")
    sub.add_argument("--since", metavar="ID|TIME", help="replay from a stream id or a time")
    sub.add_argument("--group", metavar="NAME", help="read through a consumer group, with acks")
    sub.add_argument("--consumer", default="wirewatch-subscribe", help="consumer name in --group")
    sub.add_argument(
        "--format", choices=["json", "text"], default="json", help="json lines (default) or words"
    )

    feeds = commands.add_parser(
        "feeds", help="each source's state; import, export or add sources",
        description="Without a subcommand: each source's state (group, last success, last "
        "error, next poll, lag, interval, items seen).",
    )  # fmt: skip
    feed_commands = feeds.add_subparsers(dest="feeds_command", metavar="[SUBCOMMAND]")
    opml_in = feed_commands.add_parser("import", help="add an OPML file's feeds to feeds.yaml")
    opml_in.add_argument("file", type=Path, metavar="FILE.opml")
    feed_commands.add_parser("export", help="print every http(s) source as OPML 2.0")
    add = feed_commands.add_parser("add", help="add a feed, or the feed a site's page names")
    add.add_argument("url", metavar="URL")
    add.add_argument("--name", metavar="NAME", help="its name (default: the feed's title)")
    add.add_argument("--group", metavar="GROUP", help="a folder, as in a reader")
    add.add_argument(
        "--allow-private", action="store_true",
        help="the address is on a private network (written as allow_private: true)",
    )  # fmt: skip

    rules = commands.add_parser("rules", help="check or try rule files")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True, metavar="SUBCOMMAND")
    check = rule_commands.add_parser("check", help="validate rule files")
    check.add_argument("dir", nargs="?", type=Path, help="folder of rule files (default: settings)")
    test = rule_commands.add_parser("test", help="which rules match these articles, and why")
    test.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    test.add_argument("--json", action="store_true", help="one JSON line per article")
    test.add_argument("--rule", metavar="ID", help="explain this rule, near misses included")
    test.add_argument("--since", metavar="AGE", help="articles kept from the last AGE (24h, 90m)")
    test.add_argument("--rules-dir", type=Path, help="folder of rule files (default: settings)")
    test.add_argument(
        "--full-text", nargs="?", const="auto", choices=["auto", "always"], metavar="auto|always",
        help="fetch entries' linked pages as the service would (auto: short or cut-off entries)",
    )  # fmt: skip

    web = commands.add_parser("web", help="the web console and HTTP API")
    web.add_argument("--host", help="address to listen on (default: WIREWATCH_WEB_HOST)")
    web.add_argument("--port", type=int, help="port to listen on (default: WIREWATCH_WEB_PORT)")
    notify = commands.add_parser("notify", help="deliver alerts to the people in notify.yaml")
    notify.add_argument(
        "--test", nargs="?", const=ALL_DESTINATIONS, metavar="ID",
        help="send a test message to each destination (or ID) and print ok or the error",
    )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"error: settings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from ingest.service.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)
    try:
        return dispatch(args, settings)
    except (ConfigError, ModelError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except WirewatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): not an error of ours; keep Python quiet at exit.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return cmd_run(settings, once=args.once, role=args.role)
    if args.command == "subscribe":
        return cmd_subscribe(settings, args)
    if args.command == "feeds":
        return cmd_feeds(settings, args)
    if args.command == "web":
        return cmd_web(settings, args.host or settings.web_host, args.port or settings.web_port)
    if args.command == "notify":
        return cmd_notify(settings, args.test)
    if args.rules_command == "check":
        return cmd_rules_check(args.dir or settings.rules_dir, settings.spacy_model == "blank")
    return cmd_rules_test(settings, args)


def cmd_run(settings: Settings, once: bool, role: str) -> int:
    from ingest.service.worker import Worker

    worker = Worker(settings)
    if once and role != "all":
        print("error: --once polls and matches in one process; leave out --role", file=sys.stderr)
        return EXIT_USAGE
    if not once:
        asyncio.run(worker.run_forever(role))  # type: ignore[arg-type]
        return EXIT_OK
    report = asyncio.run(worker.run_once())
    print(
        f"polled {report.polled} sources ({report.failed} failed), {report.articles} new "
        f"articles, {len(report.alerts)} alerts published"
        + (f", {report.queued} kept in the outbox" if report.queued else ""),
        file=sys.stderr,
    )
    return EXIT_FAILED if report.queued else EXIT_OK


def cmd_subscribe(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.delivery.store import Store
    from ingest.delivery.subscribe import SubscribeOptions, alert_as_text, subscribe

    options = SubscribeOptions(
        channels=tuple(args.channels),
        pattern=args.pattern,
        count=args.count,
        timeout_s=args.timeout,
        replay=args.replay,
        since=args.since,
        group=args.group,
        consumer=args.consumer,
    )

    def emit(line: str) -> None:
        sys.stdout.write((line if args.format == "json" else alert_as_text(line)) + "\n")
        sys.stdout.flush()

    async def go() -> int:
        store = Store.from_settings(settings)
        try:
            await store.ping()
            return await subscribe(store, options, emit)
        finally:
            await store.close()

    asyncio.run(go())
    return EXIT_OK


def cmd_feeds(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.service.report import feeds_report

    if args.feeds_command == "import":
        return cmd_feeds_import(settings, args.file)
    if args.feeds_command == "export":
        return cmd_feeds_export(settings)
    if args.feeds_command == "add":
        return cmd_feeds_add(settings, args)
    print(asyncio.run(feeds_report(settings)))
    return EXIT_OK


def cmd_feeds_import(settings: Settings, opml_path: Path) -> int:
    from ingest.service.subscriptions import import_opml

    try:
        report = import_opml(opml_path, settings.feeds_file)
    except OpmlError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"nothing was imported; {settings.feeds_file} is unchanged", file=sys.stderr)
        return EXIT_FAILED
    skipped = f"{report.already} already in {settings.feeds_file}"
    if report.repeated:
        skipped += f", {report.repeated} listed twice in the file"
    print(f"added {report.added} sources to {settings.feeds_file} ({skipped})", file=sys.stderr)
    return EXIT_OK


def cmd_feeds_export(settings: Settings) -> int:
    from ingest.service.subscriptions import export_opml

    export = export_opml(settings)
    sys.stdout.write(export.opml)
    if export.count == 0:
        print(f"{settings.feeds_file} has no http(s) source to export", file=sys.stderr)
    for error in export.errors:
        print(f"left out (does not load): {error}", file=sys.stderr)
    for source in export.left_out:
        print(f"left out ({source.kind}, no reader can poll it): "
              f"{settings.feeds_file}:{source.line}: {source.url}", file=sys.stderr)  # fmt: skip
    return EXIT_OK


def cmd_feeds_add(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.service.subscriptions import add_found, already_listed, find_feed

    feeds_file = settings.feeds_file
    if not re.match(r"https?://[^/]", args.url, re.IGNORECASE):
        print(f"error: {args.url!r}: give an http(s) address (a local file or folder goes "
              f"into {feeds_file} as it is)", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    line = already_listed(feeds_file, args.url)
    if line is None:
        private = args.allow_private or settings.allow_private_networks
        try:
            found = asyncio.run(find_feed(settings, args.url, private, choose_feed))
        except BlockedAddress as exc:
            print(f"error: {exc}; or add it with --allow-private", file=sys.stderr)
            return EXIT_FAILED
        line = already_listed(feeds_file, found.url)
    if line is not None:
        print(f"{feeds_file}:{line}: already there; nothing changed", file=sys.stderr)
        return EXIT_OK
    line = add_found(feeds_file, found, args.name, args.group, args.allow_private)
    print(f"{feeds_file}:{line}: added {found.url}"
          + (f" ({found.title})" if found.title else ""), file=sys.stderr)  # fmt: skip
    return EXIT_OK


def choose_feed(choices: Sequence[FeedLink]) -> FeedLink:
    """Which of the feeds a page names: asked on a terminal, else the first (its main feed)."""
    if len(choices) == 1:
        return choices[0]
    print("the page names these feeds:", file=sys.stderr)
    for number, link in enumerate(choices, 1):
        title = f" ({link.title})" if link.title else ""
        print(f"  {number}. {link.kind}{title}: {link.url}", file=sys.stderr)
    picked = 1
    if sys.stdin.isatty():
        try:
            answer = input(f"which one? [1-{len(choices)}, default 1] ").strip()
        except EOFError:  # Ctrl-D: the default
            answer = ""
        picked = int(answer) if answer.isdigit() and 1 <= int(answer) <= len(choices) else 1
    else:
        print("adding 1; to add another: wirewatch feeds add ITS_URL", file=sys.stderr)
    return choices[picked - 1]


def cmd_web(settings: Settings, host: str, port: int) -> int:
    from ingest.web.server import serve

    serve(settings, host, port)
    return EXIT_OK


def cmd_rules_check(rules_dir: Path, blank_model: bool) -> int:
    from ingest.match.matcher import model_problems
    from ingest.rules.files import check_rules_dir, cost_notes, load_rules_dir

    errors, warnings = check_rules_dir(rules_dir)
    rules = load_rules_dir(rules_dir).rules
    if blank_model:  # WIREWATCH_SPACY_MODEL=blank: `LABEL: any` rules will be refused
        errors += model_problems(rules, None)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for note in cost_notes(rules):
        print(f"note: {note}", file=sys.stderr)
    for error in errors:
        print(error)
    if errors:
        return EXIT_FAILED
    print(f"{rules_dir}: rules OK", file=sys.stderr)
    return EXIT_OK


AGE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")


def parse_age_s(text: str) -> float:
    """`24h`, `90m`, `2d`, `30s` in seconds."""
    found = AGE_RE.match(text.strip())
    if not found:
        raise ConfigError(f"--since {text!r}: give an age like 24h, 90m or 2d")
    return float(found[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[found[2]]


def cmd_rules_test(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.service.trial import read_articles, recent_articles, run_trial

    if not args.paths and not args.since:
        print("error: give article files, or --since AGE", file=sys.stderr)
        return EXIT_USAGE
    problems: list[str] = []

    def problem(message: str) -> None:
        problems.append(message)
        print(f"error: {message}", file=sys.stderr)

    # Files are read as the matching goes, so a big file's articles are never all held at once.
    def note(message: str) -> None:
        print(message, file=sys.stderr)

    full_text: FullText = "always" if args.full_text == "always" else "never"
    if args.full_text == "auto":
        full_text = "auto"
    articles = read_articles(args.paths, settings, problem, full_text, note)
    if args.since:
        recent = asyncio.run(recent_articles(settings, parse_age_s(args.since)))
        articles = itertools.chain(articles, recent)
    rules_dir = args.rules_dir or settings.rules_dir
    for line in run_trial(settings, rules_dir, articles, as_json=args.json, rule_id=args.rule):
        print(line, flush=True)
    return EXIT_FAILED if problems else EXIT_OK


def cmd_notify(settings: Settings, test_id: str | None) -> int:
    from ingest.notify.notifier import Notifier, first_load
    from ingest.notify.probe import probe
    from ingest.notify.secrets import Redactor, install

    redact = Redactor()
    install(redact)  # before notify.yaml is read: no line may carry a password or a token
    try:
        config = first_load(settings, redact)
    except ConfigError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return EXIT_FAILED
    if test_id is None:
        asyncio.run(Notifier(settings, redact).run_forever(config))
        return EXIT_OK
    chosen = [d for d in config.destinations if test_id in (ALL_DESTINATIONS, d.id)]
    if not chosen:
        known = ", ".join(d.id for d in config.destinations) or "none"
        print(f"error: no destination {test_id!r} in {settings.notify_file} ({known})",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE

    def emit(line: str) -> None:
        print(redact(line), flush=True)

    failed = asyncio.run(probe(chosen, settings, redact, emit))
    return EXIT_FAILED if failed else EXIT_OK
