"""The reading rules of two trees give the same output: every rewrite, on a large corpus of inputs.

    git worktree add /tmp/base <commit>
    python bench/text_identity.py --base /tmp/base [--generated 20000] [--keep DIR]

The corpus, gathered from this tree once and handed to both: every string literal in tests/ and bench/,
every line, table cell and `code` span of README.md and docs/*.md, bench/sentences.txt and
bench/intelligibility_sentences.tsv, and `--generated` sentences built from a fixed seed out of the
pieces the rules read (numbers of every shape, separators, units, counters, currencies, Latin words,
the context words the rules look for). Each tree runs in its own process (`PYTHONPATH` = the tree) and
writes, per input, `forv_tts.text.explain` (each sentence's expansion with every rewrite's span,
position, rule name and reading) and `forv_tts.text.expand` of the whole input. Prints the number of
inputs and of differences (the first few in full); exit status 1 if any.

With `--check-triggers` this tree also runs with every rule's `needs` switched off (each rule tried on
every sentence): the same output shows that a rule skipped by its `needs` would have changed nothing.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _literals(path: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return []
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _markdown(path: Path) -> list[str]:
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        out.append(line)
        out.extend(cell.strip() for cell in line.split("|") if cell.strip())
        out.extend(re.findall(r"`([^`]+)`", line))
    return out


_CONTEXT = [
    "마감",
    "일정",
    "오늘",
    "내일",
    "까지",
    "부터",
    "경기",
    "이겼다",
    "졌다",
    "스코어",
    "점수",
    "세트",
    "신고",
    "전화",
    "문의",
    "화재",
    "시",
    "경찰",
    "구급대",
    "번지",
    "아파트",
    "호",
    "동",
    "로",
    "길",
    "시즌",
    "학년도",
    "절",
    "전쟁",
    "당시",
    "행사",
    "증정",
    "편의점",
    "계산",
    "정답",
    "얼마",
    "오전",
    "오후",
    "저녁",
    "밤",
    "정도",
    "쯤",
    "동안",
    "걸려",
    "이동",
    "변경",
    "인상",
    "서울",
    "부산",
    "KTX",
    "항공권",
    "각도",
    "회전",
    "영하",
    "기온",
    "비밀번호",
    "끝자리",
    "인증번호",
    "국번",
    "없이",
    "로",
    "끝나는",
    "제",
    "번째",
    "째",
    "가",
    "은",
    "는",
    "이",
    "을",
    "를",
    "의",
    "에",
    "에서",
    "으로",
    "과",
    "와",
    "도",
    "만",
]
_SEPARATORS = [
    "-",
    "/",
    ".",
    ":",
    "~",
    "〜",
    "+",
    "·",
    "×",
    "=",
    "→",
    " ",
    " - ",
    " / ",
    "%",
    "&",
    "#",
    "(",
    ")",
]
_LATIN = [
    "KTX",
    "A",
    "B",
    "C",
    "R",
    "D",
    "am",
    "PM",
    "v",
    "No.",
    "www.forv.co.kr",
    "kim@naver.com",
    "GPT",
    "COVID",
    "mp",
    "Jan",
    "March",
    "th",
    "st",
    "km",
    "h",
    "s",
    "m",
    "g",
    "L",
    "min",
    "kg",
    "USD",
    "krw",
]
_HANJA = ["大韓民國", "年", "月"]
_SYMBOLS = [
    "$",
    "€",
    "£",
    "¥",
    "₩",
    "US$",
    "A$",
    "√",
    "∛",
    "½",
    "°C",
    "°F",
    "℃",
    "°",
    "Ω",
    "α",
    "ㅋㅋ",
    "ㅎㅎ",
    "ㅇㅋ",
    "ㄱ",
]


def _number(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return str(rng.randrange(10))
    if kind == 1:
        return str(rng.randrange(10, 100))
    if kind == 2:
        return str(rng.randrange(100, 10000))
    if kind == 3:
        return f"{rng.randrange(1, 1000)},{rng.randrange(1000):03d}"
    if kind == 4:
        return f"{rng.randrange(100)}.{rng.randrange(100)}"
    if kind == 5:
        return "0" + str(rng.randrange(10, 1000))
    if kind == 6:
        return str(rng.choice([1990, 2000, 2019, 2020, 2023, 2024, 119, 112, 1330, 1588, 24, 50, 7]))
    if kind == 7:
        return str(rng.randrange(10**5, 10**9))
    return str(rng.randrange(1, 13))


def _generated(count: int, tables: dict[str, list[str]]) -> list[str]:
    rng = random.Random(20261207)
    words = [*tables["units"], *tables["counters"], *tables["currency"]]
    out: list[str] = []
    for _ in range(count):
        parts: list[str] = []
        for _piece in range(rng.randrange(2, 9)):
            r = rng.random()
            if r < 0.34:
                parts.append(_number(rng))
            elif r < 0.50:
                parts.append(rng.choice(_SEPARATORS))
            elif r < 0.64:
                parts.append(rng.choice(words))
            elif r < 0.80:
                parts.append(rng.choice(_CONTEXT))
            elif r < 0.90:
                parts.append(rng.choice(_LATIN))
            elif r < 0.97:
                parts.append(rng.choice(_SYMBOLS))
            else:
                parts.append(rng.choice(_HANJA))
            if rng.random() < 0.4:
                parts.append(" ")
        out.append("".join(parts).strip() + rng.choice(["", ".", "?", "!", " 입니다."]))
    return out


def corpus(generated: int) -> list[str]:
    texts: list[str] = []
    for folder in ("tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            texts.extend(_literals(path))
    for path in [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]:
        if path.exists():
            texts.extend(_markdown(path))
    for name in ("sentences.txt", "intelligibility_sentences.tsv"):
        for line in (ROOT / "bench" / name).read_text(encoding="utf-8").splitlines():
            texts.append(line)
            texts.extend(line.split("\t"))
    from forv_tts.text import tables as t

    pieces = {
        "units": sorted(t.UNITS),
        "counters": sorted(t.NATIVE_COUNTERS | t.SINO_COUNTERS),
        "currency": sorted([*t.CURRENCY_SYMBOLS, *t.CURRENCY_CODES]),
    }
    texts.extend(_generated(generated, pieces))
    seen: set[str] = set()
    unique = []
    for text in texts:
        if text.strip() and len(text) <= 5000 and text not in seen:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                continue  # a lone surrogate (a test of odd input): JSON files cannot carry it
            seen.add(text)
            unique.append(text)
    return unique


def dump(corpus_file: Path, out_file: Path, no_triggers: bool) -> int:
    if no_triggers:  # every rule tried on every sentence, as if no `needs` had found nothing
        from forv_tts.text import rules

        rules.Rule.applies = lambda self, text: True  # type: ignore[method-assign]
    from forv_tts import text as t

    texts = json.loads(corpus_file.read_text(encoding="utf-8"))
    with out_file.open("w", encoding="utf-8") as out:
        for text in texts:
            row = {"explain": t.explain(text), "expand": t.expand(text)}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def _compare(texts: list[str], a: list[str], b: list[str], labels: str) -> int:
    differences = [(text, x, y) for text, x, y in zip(texts, a, b, strict=True) if x != y]
    for text, x, y in differences[:5]:
        print(f"DIFF {text!r}\n  {x}\n  {y}")
    print(f"{labels}: {len(texts)} inputs, {len(differences)} differences")
    return len(differences)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=False, help="worktree of the base commit")
    parser.add_argument("--generated", type=int, default=20000)
    parser.add_argument("--check-triggers", action="store_true", help="also run this tree with no triggers")
    parser.add_argument("--keep", type=Path, default=None, help="write the corpus and outputs here")
    parser.add_argument("--dump", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-triggers", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump:
        return dump(args.dump[0], args.dump[1], args.no_triggers)
    if args.base is None:
        parser.error("--base is required")
    work = args.keep or Path(tempfile.mkdtemp(prefix="text-identity-"))
    work.mkdir(parents=True, exist_ok=True)
    texts = corpus(args.generated)
    (work / "corpus.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    outputs = {}
    runs = [("base", args.base.resolve(), False), ("new", ROOT, False)]
    if args.check_triggers:
        runs.append(("new, no triggers", ROOT, True))
    for label, tree, no_triggers in runs:
        env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
        out = work / f"{label.replace(', ', '-').replace(' ', '-')}.jsonl"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--dump", str(work / "corpus.json"), str(out)]
        if no_triggers:
            cmd.append("--no-triggers")
        rc = subprocess.run(cmd, env=env, cwd=work, check=False).returncode
        if rc:
            print(f"{label}: the run failed ({rc})")
            return 1
        outputs[label] = out.read_text(encoding="utf-8").splitlines()
    failed = _compare(texts, outputs["base"], outputs["new"], f"base {args.base} / new {ROOT}")
    if args.check_triggers:
        failed += _compare(texts, outputs["new"], outputs["new, no triggers"], "new / new without triggers")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
