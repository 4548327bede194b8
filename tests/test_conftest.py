"""The suite's own rules (tests/conftest.py): in CI nothing passes by not running, and
``CI`` counts only when it says yes. Each case runs a small suite inline (pytester)
with the same hooks."""

from __future__ import annotations

import pytest

from tests.support.app import in_ci

INNER_ARGS = ("-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:playwright")
HOOKS = ("from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport"
         "  # noqa: F401\n")


@pytest.fixture
def suite(pytester, monkeypatch):
    """``suite(ci, **modules)``: run the modules with CI set to ``ci``; the result."""
    pytester.makeconftest(HOOKS)

    def run(ci: str, **modules: str):
        monkeypatch.setenv("CI", ci)
        pytester.makepyfile(**modules)
        # the outer run's plugins would nest (playwright's soft assertions) or fork
        return pytester.runpytest(*INNER_ARGS)

    return run


MODULE_SKIP = "import pytest\npytest.skip('no tool here', allow_module_level=True)\n"
IMPORT_SKIP = "import pytest\npytest.importorskip('no_such_module_anywhere')\n"
IN_TEST_SKIP = "import pytest\ndef test_it():\n    pytest.skip('not today')\n"
XPASS = "import pytest\n@pytest.mark.xfail(reason='broken')\ndef test_it():\n    pass\n"
XFAIL = "import pytest\n@pytest.mark.xfail(reason='broken')\ndef test_it():\n    assert 0\n"
PASSES = "def test_it():\n    pass\n"


@pytest.mark.parametrize("module", [MODULE_SKIP, IMPORT_SKIP], ids=["skip", "importorskip"])
def test_a_module_that_skips_itself_is_an_error_in_ci(suite, module):
    result = suite("true", test_mod=module, test_other=PASSES)
    result.assert_outcomes(errors=1)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*skipped in CI, which is a failure*"])


@pytest.mark.parametrize("module", [MODULE_SKIP, IMPORT_SKIP], ids=["skip", "importorskip"])
def test_a_module_that_skips_itself_is_a_skip_outside_ci(suite, module):
    result = suite("false", test_mod=module, test_other=PASSES)
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == 0


def test_a_test_that_skips_fails_in_ci_and_skips_outside(suite):
    suite("1", test_mod=IN_TEST_SKIP).assert_outcomes(failed=1)
    suite("0", test_mod=IN_TEST_SKIP).assert_outcomes(skipped=1)


def test_an_xpass_fails_in_ci_and_an_xfail_stays_expected(suite):
    result = suite("yes", test_xpass=XPASS, test_xfail=XFAIL)
    result.assert_outcomes(failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*XPASS in CI, which is a failure*"])
    suite("", test_xpass=XPASS, test_xfail=XFAIL).assert_outcomes(xpassed=1, xfailed=1)


@pytest.mark.parametrize(("value", "expected"), [
    ("1", True), ("true", True), ("TRUE", True), ("True", True), ("yes", True), ("Yes", True),
    (" true ", True), ("false", False), ("FALSE", False), ("0", False), ("", False),
    ("no", False), ("off", False), (None, False),
])
def test_ci_counts_only_when_it_says_yes(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert in_ci() is expected
