"""Which environment variables a snapshot records, and the rules that keep secrets out.

A snapshot records only the handful of variables that change numerical results (thread
counts, determinism switches, hash seeds): ``DEFAULT_ENV_ALLOW`` plus the names a project
adds under ``[runs] env_allow``. Paths and host names stay out of the default list, since
two engineers on identical images must produce identical snapshot bytes.

A name that looks like a secret is refused even when a user allow-lists it, and values
are redacted of URL user-info and well-known token shapes: a snapshot is committed and
pushed, and a leaked token in git history is very hard to take back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from gitprov.errors import ConfigError

# Variables that change what a training run computes or how reproducibly it does it.
# Paths, host names and credentials are left out on purpose (see the module docstring).
DEFAULT_ENV_ALLOW: frozenset[str] = frozenset(
    {
        # Which devices, in which order, and how the CUDA stack behaves.
        *("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"),
        *("CUDA_LAUNCH_BLOCKING", "CUBLAS_WORKSPACE_CONFIG", "NVIDIA_TF32_OVERRIDE"),
        *("PYTORCH_CUDA_ALLOC_CONF", "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", "HIP_VISIBLE_DEVICES"),
        # Thread pools: reduction order (hence floating-point results) depends on them.
        *("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"),
        *("VECLIB_MAXIMUM_THREADS", "MKL_CBWR", "TOKENIZERS_PARALLELISM"),
        # Determinism switches of the frameworks.
        *("PYTHONHASHSEED", "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC"),
        *("TF_ENABLE_ONEDNN_OPTS", "XLA_FLAGS", "JAX_ENABLE_X64", "JAX_DEFAULT_MATMUL_PRECISION"),
        *("JAX_PLATFORMS", "PYTHONOPTIMIZE"),
        # Where models and data come from (offline mode, mirrors).
        *("HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"),
        # Distributed layout.
        *("WORLD_SIZE", "LOCAL_WORLD_SIZE"),
        # Locale, time zone and reproducible-build time.
        *("LANG", "LC_ALL", "TZ", "SOURCE_DATE_EPOCH"),
    }
)

# Word parts of a name that mark a credential. A part matches when it equals one of these
# (or its plural) or ends with it, so HF_TOKEN, GHTOKEN, APIKEY and OAUTH are refused,
# while TOKENIZERS_PARALLELISM is not. A false positive only costs a missing variable;
# a false negative could publish a credential, so the list errs on the side of refusing.
SECRET_WORDS = (
    *("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "KEY", "CREDENTIAL"),
    *("CREDS", "AUTH", "SESSION", "COOKIE", "PRIVATE", "DSN", "SIGNATURE"),
)
# Parts that begin a credential word: AUTHTOKEN, AUTHORIZATION, SECRETKEY, PASSWORDFILE.
_SECRET_PREFIXES = ("SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE", "COOKIE", "SESSION")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*?")
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@")
# Well-known token shapes (GitHub, Hugging Face, OpenAI-style, AWS access key id, Slack,
# GitLab): redacted even under an allowed, innocent-looking name.
_TOKEN_VALUE = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{20,}"
    r"|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,})"
)
REDACTED = "***"


def looks_secret(name: str) -> bool:
    """Whether ``name`` reads like a credential (``HF_TOKEN``, ``MY_API_KEY``, ``OAUTH``...).

    >>> looks_secret("AWS_SECRET_ACCESS_KEY"), looks_secret("TOKENIZERS_PARALLELISM")
    (True, False)
    """
    for part in re.split(r"[^A-Z0-9]+", name.upper()):
        if not part:
            continue
        for word in SECRET_WORDS:
            if part in (word, word + "S") or part.endswith(word):
                return True
        if part.startswith(_SECRET_PREFIXES):
            return True
        if part.startswith("AUTH") and (
            not part.startswith("AUTHOR") or part.startswith("AUTHORI")
        ):
            return True  # AUTHTOKEN, AUTHZ, AUTHORIZATION, but not GIT_AUTHOR_NAME
    return False


def redact_value(value: str) -> str:
    """``value`` with URL user-info (``https://user:pw@host``) and known token shapes masked."""
    value = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", value)
    return _TOKEN_VALUE.sub(REDACTED, value)


def allow_list(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The default allow-list plus ``extra`` names (``NAME`` or a ``PREFIX_*`` pattern).

    Raises ConfigError for a name that is not an environment variable name, or a bare
    ``*``: recording every variable is exactly what the allow-list exists to prevent.
    """
    names = set(DEFAULT_ENV_ALLOW)
    for name in extra:
        if not _NAME.fullmatch(name):
            raise ConfigError(
                f"{name!r} in [runs] env_allow is not an environment variable name "
                "(letters, digits and '_', optionally ending in '*')",
                "Fix [runs] env_allow in .gitprov/config.toml",
            )
        names.add(name)
    return tuple(sorted(names))


def filter_env(environ: Mapping[str, str], allow: Iterable[str]) -> dict[str, str]:
    """The allow-listed variables of ``environ``, minus secret-looking names, redacted.

    A secret-looking name is dropped even when it is allow-listed by name: the check
    runs after the allow-list, on purpose.
    """
    exact = {name for name in allow if not name.endswith("*")}
    prefixes = tuple(name[:-1] for name in allow if name.endswith("*"))
    return {
        name: redact_value(value)
        for name, value in environ.items()
        if (name in exact or (prefixes and name.startswith(prefixes))) and not looks_secret(name)
    }


def redact_argv(argv: list[str]) -> tuple[list[str], int]:
    """``argv`` with credentials masked, and how many were: the value of an option whose
    name looks secret (``--hf-token X``, ``--api-key=X``, ``--password X``), URL user-info
    and known token shapes anywhere. A run record is committed and pushed: a token on the
    command line must not travel with it (pass secrets through the environment instead).

    >>> redact_argv(["train.py", "--hf-token", "abc", "--lr=0.1", "--api-key=k"])
    (['train.py', '--hf-token', '***', '--lr=0.1', '--api-key=***'], 2)
    """
    out: list[str] = []
    count = 0
    mask_next = False
    for arg in argv:
        if mask_next:
            out.append(REDACTED)
            count += 1
            mask_next = False
            continue
        name, eq, _ = arg.partition("=")
        if arg.startswith("-") and looks_secret(name.lstrip("-").replace("-", "_")):
            if eq:
                out.append(f"{name}={REDACTED}")
                count += 1
            else:
                out.append(arg)
                mask_next = True
            continue
        masked = redact_value(arg)
        count += masked != arg
        out.append(masked)
    return out, count
