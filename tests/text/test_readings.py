"""Issue 16: the Korean reading of what people type, category by category (the text before g2pk).

Each expected reading is written from a convention, named in a comment where it is one:
- 국립국어원 (표준국어대사전, 한글 맞춤법 제44항 수 띄어쓰기) for numerals: native numerals (한, 두, 세 …)
  before native counters, Sino-Korean before Sino counters and unit symbols; 유월, 시월.
- How news readers and call centres read identifying numbers: digit by digit, 0 as 공, a pause
  (space) between groups, a country code announced first (국가번호).
- How dates and ranges are read on air: 년 월 일 with Sino numerals, weekdays in full (목 → 목요일),
  a range as "A에서 B" with each side carrying its own counter.
- 표준 문법 for particles: 받침 뒤 이/은/을/과/으로, 모음 뒤 가/는/를/와/로, ㄹ 받침 뒤 로.
`test_category_sizes` keeps the table from shrinking.
"""

from __future__ import annotations

import re

import pytest

from forv_tts.text import expand, explain, normalize

SPEAKABLE = re.compile(r"[가-힣 .,!?]*")

CASES: dict[str, list[tuple[str, str]]] = {
    "phone": [
        # Digit by digit, 0 → 공, groups separated by a pause (방송 전화번호 읽기).
        ("031-123-4567", "공삼일 일이삼 사오육칠"),
        ("010-9876-5432", "공일공 구팔칠육 오사삼이"),
        ("02-3456-7890", "공이 삼사오육 칠팔구공"),
        ("(02) 987-6543", "공이 구팔칠 육오사삼"),
        ("(031)123-4567", "공삼일 일이삼 사오육칠"),
        ("010.1234.5678", "공일공 일이삼사 오육칠팔"),
        ("010 1234 5678", "공일공 일이삼사 오육칠팔"),
        ("01012345678", "공일공 일이삼사 오육칠팔"),
        ("0507-1234-5678", "공오공칠 일이삼사 오육칠팔"),
        ("070-8765-4321", "공칠공 팔칠육오 사삼이일"),
        ("777.123.4567", "칠칠칠 일이삼 사오육칠"),  # North American 3-3-4 grouping
        ("555-123-4567", "오오오 일이삼 사오육칠"),
        ("1-800-555-1234", "일 팔공공 오오오 일이삼사"),
        ("555-1234", "오오오 일이삼사"),
        ("1588-1234", "일오팔팔 일이삼사"),  # 전국 대표번호
        ("1577 1234", "일오칠칠 일이삼사"),
        # A country code is announced as such, then the national number.
        ("+82 10-9876-5432", "국가번호 팔이 일공 구팔칠육 오사삼이"),
        ("+82-2-312-3456", "국가번호 팔이 이 삼일이 삼사오육"),
        ("+44 20 7946 0958", "국가번호 사사 이공 칠구사육 공구오팔"),
        ("+1 (555) 123-4567", "국가번호 일 오오오 일이삼 사오육칠"),
        ("(+82) 10-1234-5678", "국가번호 팔이 일공 일이삼사 오육칠팔"),
        ("+86 138 0013 8000", "국가번호 팔육 일삼팔 공공일삼 팔공공공"),
        ("연락처는 010-2222-3333입니다.", "연락처는 공일공 이이이이 삼삼삼삼입니다."),
    ],
    "digits": [
        # Card, account and registration numbers, codes: digit by digit like a phone number.
        ("4321-8765-2109-6543", "사삼이일 팔칠육오 이일공구 육오사삼"),
        ("1234 5678 9012 3456", "일이삼사 오육칠팔 구공일이 삼사오육"),
        ("계좌 110-123-456789", "계좌 일일공 일이삼 사오육칠팔구"),
        ("사업자등록번호 123-45-67890", "사업자등록번호 일이삼 사오 육칠팔구공"),
        ("카드 끝자리 1234", "카드 끝자리 일이삼사"),
        ("뒤 4자리는 5678입니다", "뒤 네 자리는 오육칠팔입니다"),
        ("카드 뒷자리 4자리 5678", "카드 뒷자리 네 자리 오육칠팔"),
        ("끝 4자리가 3456인 카드", "끝 네 자리가 삼사오육인 카드"),
        ("인증번호는 482910입니다", "인증번호는 사팔이구일공입니다"),
        ("비밀번호 0000", "비밀번호 공공공공"),
        ("우편번호 06236", "우편번호 공육이삼육"),
        ("송장번호: 123456789012", "송장번호, 일이삼사오육칠팔구공일이"),
        ("OTP 987654", "오티피 구팔칠육오사"),
        ("112에 신고", "일일이에 신고"),  # 긴급전화 are read digit by digit
        ("119로 전화", "일일구로 전화"),
        ("국번 없이 114", "국번 없이 일일사"),
        ("시리얼 SN-4K2J-9X7P", "시리얼 에스엔 포케이투제이 나인엑스세븐피"),
        ("AB-1234", "에이비 일이삼사"),
        ("차량번호 12가 3456", "차량번호 일이 가 삼사오육"),  # number plates, digit by digit
        ("코로나 COVID-19", "코로나 코비드 일구"),  # 코로나19 → 코로나 일구 on air
        ("번호 3번", "번호 삼 번"),  # a counted number stays a number
    ],
    "date": [
        # Y/M/D when the first field has four digits: 년 월 일, Sino numerals, 유월/시월.
        ("2023/11/05", "이천이십삼 년 십일월 오 일"),
        ("2023-04-09", "이천이십삼 년 사월 구 일"),
        ("2023.4.9", "이천이십삼 년 사월 구 일"),
        ("2024.06.10 개장", "이천이십사 년 유월 십 일 개장"),
        ("2024/10/3부터", "이천이십사 년 시월 삼 일부터"),
        ("2022. 6. 10.", "이천이십이 년 유월 십 일."),
        ("23.04.09", "이십삼 년 사월 구 일"),
        # M/D/Y, and D/M/Y when the first field cannot be a month.
        ("11/25/2023", "이천이십삼 년 십일월 이십오 일"),
        ("05/06/2024", "이천이십사 년 오월 육 일"),  # both fields could be months: M/D/Y
        ("31/01/1999", "천구백구십구 년 일월 삼십일 일"),
        ("13-05-2024", "이천이십사 년 오월 십삼 일"),
        # Weekdays in parentheses are read in full.
        ("2023.11.05(일)", "이천이십삼 년 십일월 오 일 일요일"),
        ("2024-12-25(수)", "이천이십사 년 십이월 이십오 일 수요일"),
        ("11월 5일(목)", "십일월 오 일 목요일"),
        ("1월 2일 (화)", "일월 이 일 화요일"),
        ("12.25(수)", "십이월 이십오 일 수요일"),
        ("3/4(월) 회의", "삼월 사 일 월요일 회의"),
        ("2024.3 출시", "이천이십사 년 삼월 출시"),
        ("3/4분기 실적", "삼 사분기 실적"),  # 3/4분기 is the third quarter
        ("2024년 2월 29일(목)", "이천이십사 년 이월 이십구 일 목요일"),
    ],
    "date or fraction": [
        # A bare a/b is a date only in a date context (module docstring of forv_tts.text.rules).
        ("3/4까지 제출", "삼월 사 일까지 제출"),
        ("마감은 3/4입니다", "마감은 삼월 사 일입니다"),
        ("내일 3/4 오후 2시", "내일 삼월 사 일 오후 두 시"),
        ("3/4~3/8", "삼월 사 일에서 삼월 팔 일"),
        ("11/11 빼빼로데이", "십일월 십일 일 빼빼로데이"),
        ("3/4 이상", "사분의 삼 이상"),
        ("전체의 3/4에 해당", "전체의 사분의 삼에 해당"),
        ("2/3 정도", "삼분의 이 정도"),
        ("3/4 날씨", "사분의 삼 날씨"),
        ("5/12", "십이분의 오"),
    ],
    "weekday": [
        ("(화~토)", "화요일에서 토요일"),
        ("(월~금)", "월요일에서 금요일"),
        ("월~수", "월요일에서 수요일"),
        ("(토·일)", "토요일, 일요일"),
        ("(월/수/금)", "월요일, 수요일, 금요일"),
        ("(월, 수, 금)", "월요일, 수요일, 금요일"),
        ("매주 (화)", "매주 화요일"),
        ("2023년 3월 2일(목)~3월 5일(일)", "이천이십삼 년 삼월 이 일 목요일에서 삼월 오 일 일요일"),
    ],
    "range": [
        # A에서 B; each side carries its own counter or unit (the left takes the right's).
        ("9월3일~7일", "구월 삼 일에서 칠 일"),
        ("1990~2000년대", "천구백구십 년대에서 이천 년대"),
        ("2~4개", "두 개에서 네 개"),
        ("3-5명", "세 명에서 다섯 명"),
        ("10~20%", "십 퍼센트에서 이십 퍼센트"),
        ("5〜10분", "오 분에서 십 분"),
        ("5～10분", "오 분에서 십 분"),
        ("3–4시간", "세 시간에서 네 시간"),
        ("1,000~2,000원", "천 원에서 이천 원"),
        ("$10~20", "십 달러에서 이십 달러"),
        ("10~11시", "열 시에서 열한 시"),
        ("1~2월", "일월에서 이월"),
        ("2023~2024년", "이천이십삼 년에서 이천이십사 년"),
        ("1990-2000", "천구백구십에서 이천"),
        ("1~3", "일에서 삼"),
        ("-5~5도", "영하 오 도에서 오 도"),
        ("2024년 1월 1일~12월 31일", "이천이십사 년 일월 일 일에서 십이월 삼십일 일"),
        ("2023.1.1~2023.1.31", "이천이십삼 년 일월 일 일에서 이천이십삼 년 일월 삼십일 일"),
        ("10:00-18:00", "열 시에서 열여덟 시"),  # issue 27: one clock per range
        ("월~금 09:00~18:00", "월요일에서 금요일 아홉 시에서 열여덟 시"),
        ("14:00~16:30", "십사 시에서 십육 시 삼십 분"),
        ("3~4kg", "삼 킬로그램에서 사 킬로그램"),
        ("~5월 31일", "오월 삼십일 일까지"),  # a range sign with nothing before it: until
        ("신청 기간: ~3/15(금)", "신청 기간, 삼월 십오 일 금요일까지"),
    ],
    "time": [
        # Hours native up to 12 (세 시), Sino on the 24-hour clock; minutes/seconds Sino; leading 0 silent.
        ("오후 02:05", "오후 두 시 오 분"),
        ("오전 09:00", "오전 아홉 시"),
        ("07분", "칠 분"),
        ("3시 07분", "세 시 칠 분"),
        ("09시 30분", "아홉 시 삼십 분"),
        ("10시 00분", "열 시"),
        ("새벽 03:30", "새벽 세 시 삼십 분"),
        ("저녁 7:30", "저녁 일곱 시 삼십 분"),
        ("오후 14:30", "오후 두 시 삼십 분"),  # 오후 already says it: the 12-hour reading
        ("13:00", "십삼 시"),
        ("23:59:59", "이십삼 시 오십구 분 오십구 초"),
        ("00:30", "영 시 삼십 분"),
        ("07:05:09", "일곱 시 오 분 구 초"),
        ("9:30AM", "오전 아홉 시 삼십 분"),
        ("9:30 PM", "오후 아홉 시 삼십 분"),
        ("3PM", "오후 세 시"),
        ("10am", "오전 열 시"),
        ("오전 10시 30분~11시", "오전 열 시 삼십 분에서 열한 시"),
        ("2시간 05분", "두 시간 오 분"),
        ("24시간", "이십사 시간"),  # news reading of long durations
        ("48시간", "사십팔 시간"),
    ],
    "address": [
        # @ → 골뱅이, . → 닷 (점 before a file extension); labels as words if they are words, else spelled.
        ("kim.minsu@naver.com", "킴 닷 엠아이엔에스유 골뱅이 네이버 닷 컴"),
        ("help@company.co.kr", "헬프 골뱅이 컴퍼니 닷 씨오 닷 케이알"),
        ("abc123@gmail.com", "에이비씨 일이삼 골뱅이 지메일 닷 컴"),  # issue 27: C is 씨
        ("test_user@daum.net", "테스트 언더바 유저 골뱅이 다음 닷 넷"),
        ("support@kakao.com로 문의", "서포트 골뱅이 카카오 닷 컴으로 문의"),
        ("example.or.kr", "이그잼플 닷 오알 닷 케이알"),
        ("naver.com", "네이버 닷 컴"),
        ("www.naver.com에 접속", "더블유더블유더블유 닷 네이버 닷 컴에 접속"),
        ("https://github.com/forv/tts", "깃허브 닷 컴 슬래시 에프오알브이 슬래시 티티에스"),
        ("blog.naver.com/abc", "블로그 닷 네이버 닷 컴 슬래시 에이비씨"),
        ("보고서.docx", "보고서 점 독스"),
        ("data.csv", "데이터 점 씨에스브이"),
        ("사진.JPG", "사진 점 제이피지"),
        ("최종_수정본.pdf", "최종 언더바 수정본 점 피디에프"),
        ("archive.tar.gz", "아카이브 점 타르 점 지집"),
        ("config.json 파일을", "컨피그 점 제이슨 파일을"),
    ],
    "currency": [
        # The amount, then the currency's name; a code or symbol may stand before or after.
        ("KRW 45,000", "사만 오천 원"),
        ("USD 30", "삼십 달러"),
        ("GBP 20을", "이십 파운드를"),
        ("SGD 100", "백 싱가포르 달러"),
        ("A$50", "오십 호주 달러"),
        ("HK$200", "이백 홍콩 달러"),
        ("¥1,000", "천 엔"),
        ("€20", "이십 유로"),
        ("£5", "오 파운드"),
        ("30€", "삼십 유로"),
        ("1,000 USD", "천 달러"),
        ("30 EUR", "삼십 유로"),
        ("JPY 10,000", "만 엔"),
        ("CNY 200", "이백 위안"),
        ("$3M", "삼백만 달러"),
        ("$1.5B", "십오억 달러"),
        ("₩5,000", "오천 원"),
        ("$20이", "이십 달러가"),
        ("12억 3,456만 원", "십이억 삼천사백오십육만 원"),
    ],
    "unit": [
        # Unit symbols take Sino numerals; per-units read 당 first (분당 오 리터); 시속/초속 prefixes.
        ("45s", "사십오 초"),
        ("72h", "칠십이 시간"),
        ("3h", "세 시간"),
        ("500N", "오백 뉴턴"),
        ("3,000rpm", "삼천 알피엠"),
        ("60Hz", "육십 헤르츠"),
        ("85dB", "팔십오 데시벨"),
        ("128GB", "백이십팔 기가바이트"),
        ("5000mAh", "오천 밀리암페어시"),
        ("10m/s", "초속 십 미터"),
        ("5L/min", "분당 오 리터"),
        ("10km/L", "리터당 십 킬로미터"),
        ("3mg/kg", "킬로그램당 삼 밀리그램"),
        ("120km/h", "시속 백이십 킬로미터"),
        ("9.8m/s²", "구 점 팔 미터 매 제곱초"),
        ("2.4GHz", "이 점 사 기가헤르츠"),
        ("10Mbps", "십 메가비피에스"),
        ("1.5t", "일 점 오 톤"),
        ("100m²", "백 제곱미터"),
        ("1990s", "천구백구십 년대"),
        ("-10℃", "영하 십 도"),  # issue 27
        ("220V", "이백이십 볼트"),
        ("설탕 200 g과 물 2 L", "설탕 이백 그램과 물 이 리터"),  # a space before a one-letter unit
        ("3 A 등급", "삼 에이 등급"),  # … but not before a grade letter
    ],
    "fraction": [
        # 분모 first: b분의 a; mixed numbers with 과/와; negative; roots (루트).
        ("1/2", "이분의 일"),
        ("3/5이", "오분의 삼이"),
        ("1과1/4kg", "일과 사분의 일 킬로그램"),
        ("2와 1/2", "이와 이분의 일"),
        ("1 1/2컵", "한 컵 반"),  # issue 27: n and a half before a native counter
        ("-2/5m", "마이너스 오분의 이 미터"),
        ("-3/4", "마이너스 사분의 삼"),
        ("½", "이분의 일"),
        ("1½", "일과 이분의 일"),
        ("√2", "루트 이"),
        ("2√3", "이 루트 삼"),
        ("√2/2", "이분의 루트 이"),
        ("3분의 1", "삼분의 일"),
        ("10/100", "백분의 십"),
    ],
    "particle": [
        # The particle agrees with the last syllable spoken, not the digit written.
        ("1/4이", "사분의 일이"),
        ("2/4이", "사분의 이가"),
        ("2/4가", "사분의 이가"),
        ("1/3을", "삼분의 일을"),
        ("20%를", "이십 퍼센트를"),
        ("5일로", "오 일로"),
        ("2을", "이를"),
        ("3를", "삼을"),
        ("1로", "일로"),  # ㄹ 받침 뒤 로
        ("7으로", "칠로"),
        ("8로", "팔로"),
        ("3로", "삼으로"),
        ("6로", "육으로"),
        ("10로", "십으로"),
        ("4으로", "사로"),
        ("2과 3", "이와 삼"),
        ("3와 4", "삼과 사"),
        ("2은", "이는"),
        ("5는", "오는"),
        ("6는", "육은"),
        ("KTX을", "케이티엑스를"),
        ("SKT이", "에스케이티가"),
        ("LG과", "엘지와"),
        ("100이", "백이"),
        ("2이에요", "이예요"),
        ("3예요", "삼이에요"),
        ("2이랑", "이랑"),
        ("1,000을", "천을"),
    ],
}

FLAT = [(category, text, expected) for category, cases in CASES.items() for text, expected in cases]


@pytest.mark.parametrize(("category", "text", "expected"), FLAT, ids=[f"{c}:{t}" for c, t, _ in FLAT])
def test_reading(category: str, text: str, expected: str) -> None:
    assert expand(text) == expected


def test_category_sizes() -> None:
    assert len(FLAT) >= 150
    assert all(len(cases) >= 8 for cases in CASES.values())
    assert len({text for _, text, _ in FLAT}) == len(FLAT)


def test_readings_are_speakable() -> None:
    for _, text, _ in FLAT:
        assert SPEAKABLE.fullmatch(expand(text)), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("전화는 010-1234-5678로 주세요.", "전화는 공일공 이리삼사 오육칠팔로 주세요."),  # g2pk: 일이 → 이리
        ("2/4이 넘어요", "사부늬 이가 너머요"),
        ("KTX 표가 3장에 15,000원이에요", "케이티엑쓰 표가 세 장에 마 노처 눠니에요"),  # README
    ],
)
def test_pronounced(text: str, expected: str) -> None:
    assert normalize(text) == [expected]


def test_explain_names_rule_span_and_reading() -> None:
    [sentence] = explain("3/4까지 2/4이 남았다")
    rewrites = sentence["rewrites"]
    assert [(r["span"], r["rule"], r["reading"]) for r in rewrites] == [
        ("3/4", "date", "삼월 사 일"),
        ("2/4", "fraction", "사분의 이"),
        ("이", "particle", "가"),
    ]
    assert sentence["sentence"][rewrites[1]["start"] : rewrites[1]["end"]] == "2/4"


def test_one_g2pk_call_per_text_reads_like_one_per_sentence() -> None:
    from forv_tts.text.normalizer import pronounced, pronounced_all

    expanded = [expand(text) for _, text, _ in FLAT]
    assert pronounced_all(expanded) == [pronounced(e) for e in expanded]
