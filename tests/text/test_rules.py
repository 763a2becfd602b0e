"""The rule module's layout contract: the order table, the rule names `explain` shows, lazy patterns.

What the rules read is tested by the tables in test_normalize.py, test_readings.py and
test_readings_everyday.py; bench/text_identity.py compares the whole output with another commit's.
"""

from __future__ import annotations

import subprocess
import sys

from forv_tts.text import rules

# The rule names `normalize --explain` and `--json` show (a contract: clients key on them).
EXPLAIN_NAMES = {
    "address",
    "arrow",
    "code",
    "company",
    "counter",
    "currency",
    "date",
    "digits",
    "domain",
    "email",
    "english",
    "equals",
    "file name",
    "floor",
    "fraction",
    "letters",
    "letters and digits",
    "lot number",
    "named date",
    "number",
    "ordinal",
    "phone",
    "plate",
    "promotion",
    "range",
    "rate",
    "ratio",
    "root",
    "score",
    "season",
    "service number",
    "temperature",
    "time",
    "unit",
    "url",
    "version",
    "weekday",
}


def test_every_registered_rule_runs_once_in_order() -> None:
    assert len(rules.ORDER) == len(set(rules.ORDER))
    assert [r.key for r in rules.RULES] == list(rules.ORDER)
    assert {r.name for r in rules.RULES} == EXPLAIN_NAMES


def test_needs_is_a_regular_expression_or_none() -> None:
    import re

    for rule in rules.RULES:
        assert rule.needs is None or re.compile(rule.needs), rule.key
        assert rule.pattern.pattern == rule.source


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_import_compiles_no_rule_pattern_and_a_sentence_only_what_it_needs() -> None:
    code = (
        "from forv_tts.text import rules as r\n"
        "print(sum(x._pattern is not None for x in r.RULES))\n"
        "r.expand('오늘은 날씨가 좋네요.')\n"
        "print(sum(x._pattern is not None for x in r.RULES))\n"
        "r.expand('기온은 25도까지 오르겠습니다.')\n"
        "print(' '.join(x.key for x in r.RULES if x._pattern is not None))\n"
    )
    at_import, plain, keys = _run(code).splitlines()
    assert at_import == "0"
    assert plain == "1"  # company: the one rule with no `needs`
    assert keys == "company counter"


def test_a_rule_not_tried_because_of_needs_would_not_have_matched() -> None:
    # One case per kind of `needs`: the sentence lacks what the rule's pattern requires.
    assert not rules._REGISTRY["phone: international"].applies("전화 010-1234-5678")
    assert rules._REGISTRY["phone: international"].applies("+82 10-1234-5678")
    assert not rules._REGISTRY["fraction: a/b"].applies("3분의 1")
    assert not rules._REGISTRY["counter"].applies("25")
    assert rules._REGISTRY["counter"].applies("25 도")
    assert rules._REGISTRY["date: english month first"].applies("JAN 5")
