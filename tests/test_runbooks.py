"""The runbooks (docs/runbooks/) stay true: every alert links an existing page, every routine
task has one, and every command they name still exists with the options they give it.

Commands come from fenced shell blocks and from inline code that starts with a known command.
Nothing is run that would change data: manage.py commands are parsed by their own argument
parser (a renamed command, option or choice fails), `shell -c` snippets have their imports and
the attributes they use resolved, pg_dump / pg_restore / psql / celery answer `--help` with the
options named, docker compose and make lines name services and targets that exist.
"""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

from core.alerts import INCIDENT_KINDS

ROOT = Path(__file__).resolve().parent.parent
RUNBOOKS = ROOT / "docs" / "runbooks"
ROUTINE_TASKS = [
    "failed-memories.md",
    "reembed.md",
    "restore-from-backup.md",
    "rotate-secrets.md",
    "redis-lost.md",
    "pgvector-upgrade.md",
]
# Inline code that is a command (other inline code names settings, keys, paths).
COMMAND_START = re.compile(
    r"^(\$M |\.venv/bin/python (manage\.py|-m celery) |python3? manage\.py |manage\.py |"
    r"pg_dump |pg_restore |psql |docker compose |make |python3 -c )"
)
SHELL_BLOCK = re.compile(r"^```(?:sh|bash|shell|console)\n(.*?)^```", re.S | re.M)
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


@dataclass(frozen=True)
class Command:
    page: str
    text: str

    def __str__(self) -> str:
        return f"{self.page}: {self.text}"


def runbook_pages() -> list[Path]:
    return sorted(RUNBOOKS.glob("*.md"))


def commands_of(page: Path) -> list[Command]:
    text = page.read_text()
    found = []
    for block in SHELL_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            if line and not line.startswith("#"):
                found.append(Command(page.name, line))
    for code in INLINE_CODE.findall(SHELL_BLOCK.sub("", text)):
        if COMMAND_START.match(code):
            found.append(Command(page.name, code))
    return found


def all_commands() -> list[Command]:
    return [command for page in runbook_pages() for command in commands_of(page)]


# ---------------------------------------------------------------------------------------------
# How each kind of command is checked


def words(text: str) -> list[str]:
    """The command's words up to the first redirection or pipe."""
    result = []
    for word in shlex.split(text):
        if word in {">", ">>", "|", "&&", ";", "<"}:
            break
        result.append(word)
    return result


def check_manage(args: list[str]) -> None:
    """A manage.py command line: the command exists and its parser accepts the arguments."""
    from django.core.management import CommandError, get_commands, load_command_class

    if not args:  # `… python manage.py`: how a page spells `$M`
        return
    name, rest = args[0], args[1:]
    commands = get_commands()
    assert name in commands, f"no manage.py command {name!r}"
    if not rest or rest == ["--help"]:  # named in prose, or its help
        return
    command = load_command_class(commands[name], name)
    if name == "dbshell" and "--" in rest:  # what follows `--` goes to psql
        check_tool_help("psql", rest[rest.index("--") + 1 :])
        rest = rest[: rest.index("--")]
    parser = command.create_parser("manage.py", name)
    try:
        options = parser.parse_args(rest)
    except CommandError as exc:  # how Django's parser refuses outside a command line
        raise AssertionError(f"manage.py {name} refuses {rest}: {exc}") from exc
    if name == "shell" and options.command:
        check_python_snippet(options.command)


def check_python_snippet(code: str) -> None:
    """Its imports resolve and the attributes it reads of them exist (nothing is called)."""
    tree = ast.parse(code)
    namespace: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            exec(compile(ast.Module([node], []), "<runbook>", "exec"), namespace)  # noqa: S102
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            chain.insert(0, current.attr)
            current = current.value
        if isinstance(current, ast.Name) and current.id in namespace:
            value = namespace[current.id]
            for attribute in chain:
                assert hasattr(value, attribute), f"{current.id}.{'.'.join(chain)}"
                value = getattr(value, attribute)


@cache
def tool_help(tool: str, *subcommand: str) -> str:
    result = subprocess.run(
        [tool, *subcommand, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def check_tool_help(tool: str, args: list[str], *subcommand: str) -> None:
    """`tool --help` runs and lists every long option the line uses."""
    text = tool_help(tool, *subcommand)
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            option = arg.split("=", 1)[0]
            assert option in text, f"{tool} has no {option}"


@cache
def compose_services() -> frozenset[str]:
    return frozenset(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])


# Options of docker compose's verbs that take a value (the value is not a service).
COMPOSE_VALUE_OPTIONS = {"--since", "--tail", "--scale", "-U", "--format", "-f", "--file"}


def check_compose(args: list[str]) -> None:
    verb, rest = args[0], args[1:]
    assert verb in {"up", "stop", "start", "restart", "logs", "ps", "exec", "run", "pull"}, verb
    if verb in {"exec", "run"}:
        while rest and rest[0].startswith("-"):
            rest = rest[1:]
        assert rest[0] in compose_services(), f"no compose service {rest[0]!r}"
        check_words(rest[1:])
        return
    skip_next = False
    for word in rest:
        if skip_next:
            skip_next = False
        elif word in COMPOSE_VALUE_OPTIONS:
            skip_next = True
        elif not word.startswith("-"):
            assert word in compose_services(), f"no compose service {word!r}"


def check_make(args: list[str]) -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in args:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"no make target {target}"


def check_words(args: list[str]) -> None:
    """Dispatch one command line, given as words."""
    if args[:1] == ["$M"]:
        check_manage(args[1:])
    elif len(args) > 1 and args[0].endswith("python") and args[1] == "manage.py":
        check_manage(args[2:])
    elif args[:1] == ["manage.py"]:
        check_manage(args[1:])
    elif args[:1] in (["pg_dump"], ["pg_restore"], ["psql"]):
        check_tool_help(args[0], args[1:])
    elif args[:2] == ["docker", "compose"]:
        check_compose(args[2:])
    elif args[:1] == ["make"]:
        check_make(args[1:])
    elif len(args) > 3 and args[0].endswith("python") and args[1:3] == ["-m", "celery"]:
        subcommand = [word for word in args[5:] if not word.startswith("-")]
        check_tool_help(sys.executable, args[5:], "-m", "celery", "-A", "config", *subcommand)
    elif args[:2] in (["python3", "-c"], ["python", "-c"]):
        compile(args[2], "<runbook>", "exec")
    else:
        raise AssertionError(f"the runbook test does not know how to check {args[0]!r}")


# ---------------------------------------------------------------------------------------------
# Tests


def test_the_runbooks_name_commands():
    assert len(all_commands()) >= 30


@pytest.mark.django_db
@pytest.mark.parametrize("command", all_commands(), ids=str)
def test_every_command_a_runbook_names_still_exists(command):
    check_words(words(command.text))


def test_an_unknown_command_or_option_is_caught():
    with pytest.raises(AssertionError):
        check_words(words("$M reembed --modle text-embedding-3-large"))
    with pytest.raises(AssertionError):
        check_words(words("$M re-embed --model x"))
    with pytest.raises(AssertionError):
        check_words(words("pg_restore --no-such-option backup.dump"))
    with pytest.raises(ImportError):
        check_words(words("""$M shell -c "from ai.breaker import no_such_thing" """))
    with pytest.raises(AssertionError):
        check_words(words("""$M shell -c "from ai.breaker import Forced; Forced.HALFWAY" """))
    with pytest.raises(AssertionError):
        check_words(words("docker compose up -d wokrer"))


@pytest.mark.parametrize("kind", INCIDENT_KINDS.values(), ids=lambda kind: kind.key)
def test_every_alert_links_a_runbook_page_that_describes_it(kind, settings):
    settings.RUNBOOK_BASE_URL = "https://runbooks.example/"
    page = RUNBOOKS / kind.runbook
    assert page.exists(), kind.runbook
    params = {name: "x" for name in re.findall(r"\{(\w+)\}", kind.message)}
    assert kind.render(**params).endswith(f"Runbook: https://runbooks.example/{kind.runbook}")
    text = page.read_text()
    assert f"[{kind.severity}]" in text
    assert kind.message.split("{", 1)[0].strip() in text


@pytest.mark.parametrize("name", ROUTINE_TASKS)
def test_every_routine_task_has_a_runbook(name):
    page = RUNBOOKS / name
    assert page.exists(), name
    assert commands_of(page), f"{name} names no command"


def test_the_readme_indexes_every_runbook_and_their_links_resolve():
    readme = (ROOT / "README.md").read_text()
    for page in runbook_pages():
        assert f"docs/runbooks/{page.name}" in readme, page.name
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links {target}"
