"""Normalising a 500-character paragraph: first call and steady state, against plain g2pk.

    PYTHONPATH=. python bench/normalize_bench.py [--rounds 30]

The paragraph mixes what issue 16 reads (phone and card numbers, dates, ranges, times, an e-mail
address, a URL, currency codes, units, fractions, particles) with ordinary Korean. "first" is the
first call in a fresh process (g2pk and mecab load, every regular expression compiles); "steady" is
the median of the following rounds. The competitor is the old server's normaliser, g2pk alone, on the
same paragraph in the same process, interleaved round by round. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

PARAGRAPH = (
    "안녕하세요, ForV 고객센터입니다. 주문하신 상품(주문번호 2023-1105-7788)은 2023/11/05(일) 오후 02:05에 "
    "출고되었으며 11/7~11/9(화~목) 사이에 도착합니다. 배송비는 KRW 3,000이고 해외 결제는 USD 25.50 또는 "
    "€20로 처리됩니다. 문의는 031-123-4567, 해외에서는 +82 10-9876-5432로 연락 주세요. 카드 끝자리 4321로 "
    "결제된 금액의 1/4이 포인트로 적립됩니다. 제품 사양은 5000mAh 배터리, 128GB 저장 공간, 60Hz 화면이며 "
    "충전은 45W로 약 1~2시간이 걸립니다. 자세한 내용은 support@forv.co.kr 또는 "
    "https://www.forv.co.kr/faq 에서 확인하시고, 설명서.pdf 파일을 내려받으세요. "
    "물은 1과1/2L, 온도는 -5~5℃에서 보관하세요. 오늘도 좋은 하루 "
    "보내시고, 다음에도 저희 매장을 찾아 주시면 정말 감사하겠습니다. 늘 건강하시고 행복하세요. 감사합니다!"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    started = time.perf_counter()
    from forv_tts.text import normalize

    out = normalize(PARAGRAPH)
    first = time.perf_counter() - started

    from forv_tts.text.g2p import get_g2p, pronounce

    get_g2p()
    pronounce(PARAGRAPH)  # warm g2pk's own caches as well
    ours: list[float] = []
    g2pk: list[float] = []
    expand_only: list[float] = []
    from forv_tts.text import normalize as run

    for _ in range(args.rounds):
        t = time.perf_counter()
        run(PARAGRAPH)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        pronounce(PARAGRAPH)
        g2pk.append(time.perf_counter() - t)
        t = time.perf_counter()
        run(PARAGRAPH, g2p=False)
        expand_only.append(time.perf_counter() - t)
    print(
        json.dumps(
            {
                "chars": len(PARAGRAPH),
                "sentences": len(out),
                "first_call_s": round(first, 3),
                "steady_ms_median": round(1000 * statistics.median(ours), 2),
                "steady_ms_max": round(1000 * max(ours), 2),
                "expand_only_ms_median": round(1000 * statistics.median(expand_only), 2),
                "g2pk_alone_ms_median": round(1000 * statistics.median(g2pk), 2),
                "rounds": args.rounds,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
