"""Environment snapshots: canonical bytes, secrets kept out, the cache, and the probes.

The probes run for real against this machine's interpreter and against throw-away venvs.
Hardware that does not exist here (NVIDIA GPUs, a podman container) is stood in for by a
fake ``nvidia-smi`` script on PATH and a ``.containerenv`` file passed by path.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitprov.adapters import environment_probe as probe
from gitprov.errors import ConfigError, GitprovError
from gitprov.model import environment as env_model
from gitprov.model.environment import (
    ContainerInfo,
    CpuInfo,
    EnvironmentSnapshot,
    GpuDevice,
    GpuInfo,
    PlatformInfo,
    PythonInfo,
)
from gitprov.model.runrecord import RecordFormatError
from gitprov.services import environment as env_service

PY_DIR = f"python{sys.version_info.major}.{sys.version_info.minor}"
SAMPLE = EnvironmentSnapshot(
    python=PythonInfo("CPython", "3.11.7"),
    platform=PlatformInfo(
        "Linux", "6.1.0", "x86_64", "Debian GNU/Linux 12 (bookworm)", "glibc 2.36"
    ),
    cpu=CpuInfo("AMD EPYC 7763", 64, 503),
    gpu=GpuInfo("535.104.05", "12.2", (GpuDevice("NVIDIA A100-SXM4-80GB", 81920),) * 2),
    packages=("numpy==1.26.4", "torch==2.3.0+cu121"),
    container=ContainerInfo("podman", "docker.io/library/python:3.11", None, None),
    env={"OMP_NUM_THREADS": "8", "PYTHONHASHSEED": "0"},
)


# --- helpers -----------------------------------------------------------------------------


def make_script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def counting_python(tmp_path: Path, real: str = sys.executable) -> tuple[str, Path]:
    """A wrapper interpreter that appends a line to a file each time it starts."""
    count = tmp_path / "python-starts.txt"
    wrapper = make_script(
        tmp_path / "bin" / "python-counted", f'echo x >> "{count}"\nexec "{real}" "$@"\n'
    )
    return str(wrapper), count


def starts(count: Path) -> int:
    return len(count.read_text().splitlines()) if count.exists() else 0


def make_venv(where: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, capture_output=True
    )
    return where / "lib" / PY_DIR / "site-packages"


def add_distribution(site_packages: Path, name: str, version: str) -> Path:
    info = site_packages / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return info


def capture(
    repo: Path, *, python: str = sys.executable, extra_env_allow: Sequence[str] = ()
) -> env_service.EnvCapture:
    return env_service.capture(
        top=repo, git_dir=repo / ".git", python=python, extra_env_allow=extra_env_allow
    )


@pytest.fixture
def trust_fresh_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cache probes even right after the test created their files (see the racy test)."""
    monkeypatch.setattr(env_service, "RACY_WINDOW_NS", 0)


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH with only git on it: no nvidia-smi, whatever the machine has (the tests name
    interpreters by absolute path)."""
    only_git = tmp_path / "only-git"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setenv("PATH", str(only_git))


# --- canonical bytes and digests ---------------------------------------------------------

texts = st.text(max_size=12)
maybe_texts = st.none() | texts
maybe_ints = st.none() | st.integers(0, 2**40)
snapshots = st.builds(
    EnvironmentSnapshot,
    python=st.builds(PythonInfo, texts, texts),
    platform=st.builds(PlatformInfo, texts, texts, texts, maybe_texts, maybe_texts),
    cpu=st.builds(CpuInfo, maybe_texts, maybe_ints, maybe_ints),
    gpu=st.none()
    | st.builds(
        GpuInfo,
        maybe_texts,
        maybe_texts,
        st.lists(st.builds(GpuDevice, texts, maybe_ints)).map(tuple),
    ),
    packages=st.lists(st.from_regex(r"[a-z0-9-]{1,10}==[0-9a-z.+]{1,8}", fullmatch=True)).map(
        lambda found: tuple(sorted(set(found)))
    ),
    container=st.none()
    | st.builds(ContainerInfo, maybe_texts, maybe_texts, maybe_texts, maybe_texts),
    env=st.dictionaries(st.from_regex(r"[A-Z_]{1,10}", fullmatch=True), texts),
)


@given(snapshots)
def test_canonical_bytes_round_trip_and_are_in_canonical_form(
    snapshot: EnvironmentSnapshot,
) -> None:
    data = env_model.dumps(snapshot)
    assert env_model.loads(data, source="s.json") == snapshot
    raw = json.loads(data)
    assert data == (json.dumps(raw, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    assert env_model.digest_of(data) == "sha256:" + hashlib.sha256(data).hexdigest()


@given(snapshots, st.randoms())
def test_the_digest_does_not_depend_on_dict_order(
    snapshot: EnvironmentSnapshot, rng: random.Random
) -> None:
    names = list(snapshot.env)
    rng.shuffle(names)
    shuffled = EnvironmentSnapshot(**{**vars(snapshot), "env": {n: snapshot.env[n] for n in names}})
    assert env_model.dumps(shuffled) == env_model.dumps(snapshot)


def test_the_format_is_pinned() -> None:
    """Changing the bytes of a snapshot changes every digest already committed: on purpose only."""
    data = env_model.dumps(SAMPLE)
    assert data.startswith(b'{\n  "container": {\n    "digest": null,')
    assert data.endswith(b'  "schema": 1\n}\n')
    assert env_model.digest_of(data) == (
        "sha256:a9419987b50986f672a1d248dea26fd03dc2a84eefa8855a7f3160c36874c927"
    )
    assert env_model.snapshot_path(env_model.digest_of(data)) == (
        ".gitprov/envs/" + hashlib.sha256(data).hexdigest() + ".json"
    )


@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,8}", fullmatch=True), texts)))
def test_package_list_is_sorted_normalised_and_the_first_install_wins(
    found: list[tuple[str, str]],
) -> None:
    expected: dict[str, str] = {}
    for name, version in found:
        if version.strip():
            expected.setdefault(env_model.normalise_name(name), version.strip())
    packages = env_model.package_list(found)
    assert packages == tuple(f"{name}=={expected[name]}" for name in sorted(expected))


def test_package_names_are_pep503_normalised() -> None:
    found = [("Foo_Bar", "1.0"), ("foo.bar", "2.0"), ("NumPy", "1.26.4"), ("broken", "")]
    assert env_model.package_list(found) == ("foo-bar==1.0", "numpy==1.26.4")


# --- environment variables: the allow-list and secrets -------------------------------


@pytest.mark.parametrize(
    "name",
    [
        *("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "HF_TOKEN"),
        *("MY_API_KEY", "WANDB_API_KEY", "GITHUB_TOKEN", "HFTOKEN", "APIKEY", "PGPASSWORD"),
        *("DB_PASS", "NPM_CONFIG__AUTH", "SSH_AUTH_SOCK", "GOOGLE_APPLICATION_CREDENTIALS"),
        *("AUTHORIZATION", "MY_PRIVATE_THING", "COOKIE_JAR", "SENTRY_DSN", "secret_sauce"),
    ],
)
def test_secret_looking_names_are_recognised(name: str) -> None:
    assert env_model.looks_secret(name)


@pytest.mark.parametrize(
    "name", ["TOKENIZERS_PARALLELISM", "GIT_AUTHOR_NAME", "KEYBOARD_LAYOUT", "NCCL_DEBUG"]
)
def test_ordinary_names_are_not_mistaken_for_secrets(name: str) -> None:
    assert not env_model.looks_secret(name)


def test_no_default_allow_list_entry_looks_secret() -> None:
    assert [n for n in env_model.DEFAULT_ENV_ALLOW if env_model.looks_secret(n)] == []


secret_parts = st.sampled_from(env_model.SECRET_WORDS)
name_parts = st.from_regex(r"[A-Z0-9]{0,6}", fullmatch=True)


@given(st.lists(name_parts, max_size=3), secret_parts, name_parts, st.lists(name_parts, max_size=3))
def test_a_secret_word_anywhere_as_a_name_part_is_refused_even_when_allow_listed(
    before: list[str], word: str, glued: str, after: list[str]
) -> None:
    name = "_".join(["X", *before, glued + word, *after])
    assert env_model.looks_secret(name)
    allow = env_model.allow_list([name, "X_*"])
    assert env_model.filter_env({name: "value", "X_" + name: "v"}, allow) == {}


def test_url_userinfo_and_token_shapes_are_redacted() -> None:
    redact = env_model.redact_value
    assert redact("https://bob:hunter2@pypi.corp/simple") == "https://***@pypi.corp/simple"
    assert redact("s3://AKIAIOSFODNN7EXAMPLE:x@b/p a https://u@h") == "s3://***@b/p a https://***@h"
    assert redact("hf_" + "a" * 30) == "***"
    assert redact("ghp_" + "B" * 36 + ",x") == "***,x"
    assert redact("https://huggingface.co/models") == "https://huggingface.co/models"


def test_allow_list_names_are_checked() -> None:
    assert "NCCL_*" in env_model.allow_list(["NCCL_*"])
    for bad in ["*", "A B", "X=1", "", "1ABC"]:
        with pytest.raises(ConfigError, match="env_allow"):
            env_model.allow_list([bad])
    env = {"NCCL_DEBUG": "INFO", "NCCL_X_TOKEN": "t", "OTHER": "1"}
    assert env_model.filter_env(env, env_model.allow_list(["NCCL_*"])) == {"NCCL_DEBUG": "INFO"}


def test_secrets_never_reach_the_snapshot_or_the_cache(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, no_gpu: None, trust_fresh_changes: None
) -> None:
    secrets = {
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY",
        "HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz0123",
        "MY_API_KEY": "super-secret-api-key-value",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("MY_MIRROR", "https://bob:hunter2@mirror.example/simple")
    monkeypatch.setenv("NOT_ALLOWED", "plain")

    result = capture(git_repo, extra_env_allow=["HF_TOKEN", "MY_API_KEY", "MY_MIRROR"])

    stored = (git_repo / result.path).read_bytes()
    cache = (git_repo / ".git" / "gitprov" / env_service.CACHE_NAME).read_bytes()
    for value in [*secrets.values(), "hunter2"]:
        assert value.encode() not in stored
        assert value.encode() not in cache
    env = json.loads(stored)["env"]
    assert env["OMP_NUM_THREADS"] == "4"  # control: allow-listed variables do get in
    assert env["MY_MIRROR"] == "https://***@mirror.example/simple"
    assert not {"NOT_ALLOWED", *secrets} & set(env)


# --- capture, store, load ----------------------------------------------------------------


def test_capture_stores_a_content_addressed_snapshot_once(
    git_repo: Path, no_gpu: None, trust_fresh_changes: None
) -> None:
    first = capture(git_repo)
    data = (git_repo / first.path).read_bytes()
    assert first.written
    assert first.path == f".gitprov/envs/{hashlib.sha256(data).hexdigest()}.json"
    assert first.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert json.loads(data) == first.snapshot
    assert first.snapshot["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert "pytest==" + pytest.__version__ in first.snapshot["packages"]
    assert "hypothesis" in {p.split("==")[0] for p in first.snapshot["packages"]}
    assert env_service.load(top=git_repo, digest=first.digest) == first.snapshot

    again = capture(git_repo)
    assert (again.digest, again.written) == (first.digest, False)
    assert list((git_repo / ".gitprov" / "envs").iterdir()) == [git_repo / first.path]


def test_cache_hit_does_not_start_the_interpreter(
    git_repo: Path, tmp_path: Path, no_gpu: None, trust_fresh_changes: None
) -> None:
    python, count = counting_python(tmp_path)

    first = capture(git_repo, python=python)
    second = capture(git_repo, python=python)

    assert (first.cached, second.cached) == (False, True)
    assert starts(count) == 1  # the second capture spawned nothing
    assert second.digest == first.digest


def test_a_change_right_before_the_probe_is_not_trusted_to_the_cache(
    git_repo: Path, tmp_path: Path, no_gpu: None
) -> None:
    """Like git's racy index entries: the wrapper was written within RACY_WINDOW_NS of the
    probe, and a coarse file-system clock could hide a second change, so nothing is cached."""
    python, count = counting_python(tmp_path)

    assert not capture(git_repo, python=python).cached
    assert not capture(git_repo, python=python).cached
    assert starts(count) == 2


def test_installing_a_package_invalidates_the_cache(
    git_repo: Path, tmp_path: Path, no_gpu: None, trust_fresh_changes: None
) -> None:
    site_packages = make_venv(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    before = capture(git_repo, python=python)
    assert capture(git_repo, python=python).cached  # control: unchanged means cached
    assert before.snapshot["packages"] == []

    info = add_distribution(site_packages, "Fake_Pkg", "1.2.3")
    added = capture(git_repo, python=python)

    assert not added.cached
    assert added.snapshot["packages"] == ["fake-pkg==1.2.3"]
    assert added.digest != before.digest

    (info / "METADATA").unlink()
    info.rmdir()
    removed = capture(git_repo, python=python)
    assert (removed.cached, removed.digest, removed.written) == (False, before.digest, False)


def test_an_upgrade_rewriting_metadata_in_place_invalidates_the_cache(
    git_repo: Path, tmp_path: Path, no_gpu: None, trust_fresh_changes: None
) -> None:
    site_packages = make_venv(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    info = add_distribution(site_packages, "thing", "1.0")
    assert capture(git_repo, python=python).snapshot["packages"] == ["thing==1.0"]
    assert capture(git_repo, python=python).cached

    metadata = info / "METADATA"
    metadata.write_text(metadata.read_text().replace("1.0", "2.0"))  # same folder, same name

    assert capture(git_repo, python=python).snapshot["packages"] == ["thing==2.0"]


@pytest.mark.parametrize(
    ("hook", "line"),
    [("extra.pth", "{folder}"), ("sitecustomize.py", "import sys; sys.path.append({folder!r})")],
)
@pytest.mark.usefixtures("no_gpu", "trust_fresh_changes")
def test_a_new_path_hook_brings_its_packages(
    git_repo: Path, tmp_path: Path, hook: str, line: str
) -> None:
    """A .pth file or sitecustomize adds a sys.path entry the last probe did not know."""
    site_packages = make_venv(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    add_distribution(elsewhere, "plugin", "0.1")
    capture(git_repo, python=python)
    assert capture(git_repo, python=python).cached

    (site_packages / hook).write_text(line.format(folder=str(elsewhere)) + "\n")

    assert capture(git_repo, python=python).snapshot["packages"] == ["plugin==0.1"]


def test_unrelated_files_on_sys_path_keep_the_cache(
    git_repo: Path, tmp_path: Path, no_gpu: None, trust_fresh_changes: None
) -> None:
    """A project top on sys.path (editable install) gains run outputs all the time."""
    site_packages = make_venv(tmp_path / "venv")
    python = str(tmp_path / "venv" / "bin" / "python")
    project = tmp_path / "project"
    project.mkdir()
    (site_packages / "project.pth").write_text(f"{project}\n")
    capture(git_repo, python=python)

    (project / "model.pt").write_bytes(b"weights")

    assert capture(git_repo, python=python).cached


def test_the_probe_imports_no_package_and_ignores_the_current_directory(
    git_repo: Path, tmp_path: Path, no_gpu: None
) -> None:
    site_packages = make_venv(tmp_path / "venv")
    marker = tmp_path / "imported.txt"
    add_distribution(site_packages, "torch", "2.3.0")
    (site_packages / "torch").mkdir()
    (site_packages / "torch" / "__init__.py").write_text(f"open({str(marker)!r}, 'w')\n")
    (git_repo / "json.py").write_text(f"open({str(marker)!r}, 'w')\n")  # cwd is git_repo

    result = capture(git_repo, python=str(tmp_path / "venv" / "bin" / "python"))

    assert result.snapshot["packages"] == ["torch==2.3.0"]
    assert not marker.exists()


def test_a_corrupt_cache_is_ignored_and_rewritten(
    git_repo: Path, no_gpu: None, trust_fresh_changes: None
) -> None:
    cache = git_repo / ".git" / "gitprov" / env_service.CACHE_NAME
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    assert not capture(git_repo).cached
    assert json.loads(cache.read_text())["schema"] == env_service.CACHE_SCHEMA
    assert capture(git_repo).cached


def test_a_stored_snapshot_that_does_not_match_its_name_is_a_one_line_error(
    git_repo: Path, no_gpu: None
) -> None:
    result = capture(git_repo)
    stored = git_repo / result.path
    stored.write_bytes(stored.read_bytes().replace(b'"schema": 1', b'"schema": 1 '))

    with pytest.raises(RecordFormatError) as caught:
        env_service.load(top=git_repo, digest=result.digest)
    message = str(caught.value)
    assert "\n" not in message
    assert result.path in message
    assert "corrupt" in message

    repaired = capture(git_repo)  # the next capture writes the right bytes back
    assert repaired.written
    assert env_service.load(top=git_repo, digest=result.digest) == result.snapshot


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json\n", "is not valid JSON"),
        (b"[]\n", "is not a JSON object"),
        (b'{"schema": 7}\n', "schema 7"),
        (
            env_model.dumps(SAMPLE).replace(b'"implementation": "CPython",', b""),
            "'implementation' is missing",
        ),
        (env_model.dumps(SAMPLE).replace(b'"8"', b"8"), "'env' values must be strings"),
    ],
)
def test_a_malformed_snapshot_is_a_one_line_error(
    git_repo: Path, content: bytes, expected: str
) -> None:
    digest = env_model.digest_of(content)  # named after its own bytes: only the parse fails
    path = git_repo / env_model.snapshot_path(digest)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)

    with pytest.raises(RecordFormatError, match=expected) as caught:
        env_service.load(top=git_repo, digest=digest)
    assert "\n" not in str(caught.value)


def test_loading_a_missing_or_malformed_digest_says_what_to_do(git_repo: Path) -> None:
    with pytest.raises(GitprovError, match=r"is missing .*check out or pull"):
        env_service.load(top=git_repo, digest="sha256:" + "0" * 64)
    with pytest.raises(RecordFormatError, match="not an environment snapshot ID"):
        env_service.load(top=git_repo, digest="sha256:xyz")


def test_summary_is_one_line() -> None:
    raw = env_model.to_json(SAMPLE)
    assert env_service.summary(raw) == (
        "Python 3.11.7, Linux x86_64, 2 packages, "
        "2x NVIDIA A100-SXM4-80GB (driver 535.104.05, CUDA 12.2), "
        "podman image docker.io/library/python:3.11"
    )
    bare = {**raw, "gpu": None, "container": None, "packages": ["a==1"] * 212}
    assert env_service.summary(bare) == "Python 3.11.7, Linux x86_64, 212 packages, no GPU"


# --- the interpreter -----------------------------------------------------------------


def test_a_missing_interpreter_is_a_one_line_error(git_repo: Path) -> None:
    for python in ["/nonexistent/python", "no-such-python-here"]:
        with pytest.raises(probe.EnvironmentProbeError, match="was not found") as caught:
            capture(git_repo, python=python)
        assert "\n" not in str(caught.value)


def test_an_interpreter_that_fails_is_a_one_line_error(git_repo: Path, tmp_path: Path) -> None:
    broken = make_script(tmp_path / "python", 'echo "SyntaxError: no" >&2\nexit 1\n')
    with pytest.raises(probe.EnvironmentProbeError, match=r"could not list .*SyntaxError: no"):
        capture(git_repo, python=str(broken))


def test_the_default_interpreter_is_the_first_python_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    (second / "python3").symlink_to(sys.executable)
    (first / "python").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", os.pathsep.join([str(first), str(second)]))
    assert probe.resolve_python(None) == str(second / "python3")  # python3 before python

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert probe.resolve_python(None) == sys.executable


# --- GPUs (a fake nvidia-smi: there is no NVIDIA hardware here) -----------------------

NVIDIA_SMI = """\
if [ "$1" = "--query-gpu=name,driver_version,memory.total" ]; then
  echo 'NVIDIA A100-SXM4-80GB, 535.104.05, 81920 MiB'
  echo 'NVIDIA A100-SXM4-80GB, 535.104.05, 81920 MiB'
  exit 0
fi
cat <<'EOF'
Mon Nov 18 10:00:00 2024
+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.104.05             Driver Version: 535.104.05   CUDA Version: 12.2     |
|-----------------------------------------+----------------------+----------------------+
EOF
"""


def fake_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """Put a stand-in ``nvidia-smi`` first on PATH (this machine has no NVIDIA GPU)."""
    script = make_script(tmp_path / "gpu-bin" / "nvidia-smi", body)
    monkeypatch.setenv("PATH", os.pathsep.join([str(script.parent), "/usr/bin", "/bin"]))
    return script


def test_gpus_driver_and_cuda_come_from_nvidia_smi(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake nvidia-smi stands in for GPUs that this test machine does not have."""
    fake_nvidia_smi(tmp_path, monkeypatch, NVIDIA_SMI)

    result = capture(git_repo)

    assert result.snapshot["gpu"] == {
        "cuda": "12.2",
        "devices": [{"memory_mib": 81920, "name": "NVIDIA A100-SXM4-80GB"}] * 2,
        "driver": "535.104.05",
    }
    assert "2x NVIDIA A100-SXM4-80GB (driver 535.104.05, CUDA 12.2)" in env_service.summary(
        result.snapshot
    )
    assert result.warnings == ()


def test_a_failing_nvidia_smi_records_no_gpu_warns_and_is_retried(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trust_fresh_changes: None
) -> None:
    """The fake nvidia-smi fails as a real one does when the driver is not loaded."""
    fake_nvidia_smi(
        tmp_path,
        monkeypatch,
        'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."\n'
        "exit 9\n",
    )

    first = capture(git_repo)
    second = capture(git_repo)

    assert first.snapshot["gpu"] is None
    assert len(first.warnings) == 1
    assert "nvidia-smi failed (exit 9: NVIDIA-SMI has failed" in first.warnings[0]
    assert not second.cached  # a failed probe is not remembered: the next run tries again


def test_a_hanging_nvidia_smi_times_out(tmp_path: Path) -> None:
    """A stand-in for nvidia-smi stuck on a wedged driver."""
    script = make_script(tmp_path / "nvidia-smi", "exec sleep 30\n")
    gpu, warnings = probe.probe_gpu(str(script), timeout=0.3)
    assert gpu is None
    assert warnings == ("nvidia-smi failed (no answer within 0.3 s): GPUs not recorded",)


def test_gpu_csv_parsing_tolerates_missing_fields() -> None:
    devices, driver = probe.parse_gpu_csv("Tesla T4, [N/A], [N/A]\n\ngarbage\n")
    assert devices == (GpuDevice("Tesla T4", None),)
    assert driver is None
    assert probe.parse_cuda_version("no version here") is None


# --- containers ----------------------------------------------------------------------

IMAGE_ID = "8f" * 32


def test_podman_containerenv_names_the_image_and_its_id(tmp_path: Path) -> None:
    containerenv = tmp_path / ".containerenv"
    containerenv.write_text(
        'engine="podman-4.9.3"\nname="trainer"\nid="5c0d1e"\n'
        f'image="docker.io/library/python:3.11-slim"\nimageid="{IMAGE_ID}"\nrootless=1\n'
    )
    info = probe.probe_container({}, dockerenv=tmp_path / "none", containerenv=containerenv)
    assert info == ContainerInfo(
        "podman", "docker.io/library/python:3.11-slim", "sha256:" + IMAGE_ID, None
    )


def test_docker_and_the_explicit_override(tmp_path: Path) -> None:
    dockerenv = tmp_path / ".dockerenv"
    nowhere = tmp_path / "none"
    assert probe.probe_container({}, dockerenv=nowhere, containerenv=nowhere) is None
    dockerenv.touch()
    assert probe.probe_container({}, dockerenv=dockerenv, containerenv=nowhere) == (
        ContainerInfo("docker", None, None, None)
    )
    pinned = {"GITPROV_CONTAINER_IMAGE": f"ghcr.io/acme/train:1.0@sha256:{IMAGE_ID}"}
    assert probe.probe_container(pinned, dockerenv=dockerenv, containerenv=nowhere) == (
        ContainerInfo("docker", "ghcr.io/acme/train:1.0", None, "sha256:" + IMAGE_ID)
    )
    tagged = {"GITPROV_CONTAINER_IMAGE": "ghcr.io/acme/train:1.0"}
    assert probe.probe_container(tagged, dockerenv=nowhere, containerenv=nowhere) == (
        ContainerInfo(None, "ghcr.io/acme/train:1.0", None, None)
    )


def test_the_container_override_reaches_the_snapshot(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, no_gpu: None, trust_fresh_changes: None
) -> None:
    plain = capture(git_repo)
    monkeypatch.setenv("GITPROV_CONTAINER_IMAGE", f"ghcr.io/acme/train@sha256:{IMAGE_ID}")

    pinned = capture(git_repo)

    assert pinned.cached  # the container is read afresh on every capture, cache or not
    assert pinned.snapshot["container"]["digest"] == "sha256:" + IMAGE_ID
    assert pinned.snapshot["container"]["image"] == "ghcr.io/acme/train"
    assert pinned.digest != plain.digest
