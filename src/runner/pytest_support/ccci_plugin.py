"""cc-ci's pytest plugin: the run's context as fixtures, so legacy overlays keep working.

Loaded with ``-p ccci_plugin``. Every value comes from the environment cc-ci sets for the tier;
``exec_in_app`` runs ``cc-ci exec`` and raises when the command fails, so a failed exec is never
mistaken for empty output.
"""
import os
import subprocess

import pytest


def _env(name):
    value = os.environ.get(name)
    if value is None:
        raise RuntimeError(f"{name} is not set: this test must run under cc-ci")
    return value


class ExecError(AssertionError):
    """A command in the app failed (non-zero exit, or no container answered before the deadline)."""


def exec_in_app(service, command, expect_exit=0):
    """Runs ``command`` (a string for ``sh -c`` or a list) in a running container of ``service``."""
    argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
    proc = subprocess.run(
        [_env("CCCI_BIN"), "exec", "--run", _env("CCCI_RUN_ID"), "--service", service,
         "--exit", str(expect_exit), "--"] + argv,
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise ExecError(f"exec in {service} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def pytest_configure(config):
    config.addinivalue_line("markers", "tier(name): the cc-ci tier this test belongs to")


def pytest_collection_modifyitems(session, config, items):
    out = os.environ.get("CCCI_PYTEST_COLLECT_OUT")
    if not out:
        return
    with open(out, "w", encoding="utf-8") as fh:
        for item in items:
            marker = item.get_closest_marker("tier")
            tier = marker.args[0] if marker and marker.args else ""
            # Every marker's name, for `cc-ci run -m` (pytest's -m sees the same names).
            names = sorted({m.name for m in item.iter_markers()})
            fh.write(f"{item.nodeid}\t{tier}\t{','.join(names)}\n")


@pytest.fixture(scope="session")
def app_domain():
    return _env("CCCI_APP_DOMAIN")


@pytest.fixture(scope="session")
def stack():
    return _env("CCCI_STACK")


@pytest.fixture(scope="session")
def head_ref():
    return os.environ.get("CCCI_HEAD_REF") or None


@pytest.fixture(scope="session")
def recipe():
    return _env("CCCI_RECIPE")


@pytest.fixture(scope="session")
def tier():
    return _env("CCCI_TIER")


@pytest.fixture(name="exec_in_app", scope="session")
def exec_in_app_fixture():
    return exec_in_app


@pytest.fixture(scope="session")
def live_app(app_domain, stack, head_ref):
    """The legacy harness's fixture: the deployed app's coordinates and an exec helper."""
    return {"domain": app_domain, "stack": stack, "head_ref": head_ref, "exec": exec_in_app}
