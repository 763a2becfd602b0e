"""Issue 27: everyday forms that were read wrong, as a table (text, rule, expanded, pronounced).

Each row is one written form, the rule that `normalize --explain` names for it, the text before g2pk
(the reading, written from how announcers, call centres and chat users say it), and what g2pk then
makes of that reading, i.e. exactly what `forv-tts normalize` prints. Where a form is ambiguous the
table holds both readings, each with the words around it that decide (119 구급대 / 119명, 6.25 전쟁 /
지수 6.25, 1+1 행사 / 1+1은 얼마, 3-1로 이겼다 / 2-3명). The conventions are in docs/normalization.md.

The pronounced column was reviewed row by row, not copied blindly: g2pk's liaison across word
boundaries (경찰 일일이 → 경차 리리리, 삼 유로 → 사 뮤로) is how the phrase is said. Two g2pk faults
that are not about these readings are kept out of the examples and written down in the docs
(… 를 누르세요 → 루르세요, 아침 영하 → 아치 명하).
"""

from __future__ import annotations

import pytest

from forv_tts.text import expand, explain, normalize

CASES: dict[str, list[tuple[str, str, str, str]]] = {
    "service number": [
        ("119 구급대가 출동했다", "service number", "일일구 구급대가 출동했다", "이릴구 구급때가 출동핻따"),
        ("화재가 나면 바로 119", "service number", "화재가 나면 바로 일일구", "화재가 나면 바로 이릴구"),
        (
            "긴급 상황엔 119에 전화",
            "service number",
            "긴급 상황엔 일일구에 전화",
            "긴급 쌍황에 니릴구에 전화",
        ),
        ("경찰 112로 연락하세요", "service number", "경찰 일일이로 연락하세요", "경차 리리리로 열라카세요"),
        ("긴급전화 112", "service number", "긴급전화 일일이", "긴급쩐화 이리리"),
        ("경찰(112)에 신고", "service number", "경찰 일일이에 신고", "경차 리리리에 신꼬"),
        ("학교폭력은 117에 신고", "service number", "학교폭력은 일일칠에 신고", "학꾜퐁녀그 니릴치레 신꼬"),
        (
            "서울시 민원은 120 다산콜센터",
            "service number",
            "서울시 민원은 일이공 다산콜센터",
            "서울시 미눠느 니리공 다산콜센터",
        ),
        ("관광 안내는 1330", "service number", "관광 안내는 일삼삼공", "관광 안내느 닐삼삼공"),
        ("전화번호 안내 114", "service number", "전화번호 안내 일일사", "전화번호 안내 이릴사"),
        ("대표번호 1544-7788", "phone", "대표번호 일오사사 칠칠팔팔", "대표번호 이로사사 칠칠팔팔"),
        ("1661-2345로 문의", "phone", "일육육일 이삼사오로 문의", "이류규기 리삼사오로 무늬"),
        ("국번 없이 1588-0000", "phone", "국번 없이 일오팔팔 공공공공", "국뻐 넙씨 이로팔팔 공공공공"),
        # A count stays a count: the same digits without a number-to-call around them.
        ("119명이 구조됐다", "counter", "백십구 명이 구조됐다", "백씹꾸 명이 구조됃따"),
        ("버스 112번을 탔다", "counter", "버스 백십이 번을 탔다", "버스 백씨비 버늘 탇따"),
        ("총 114쪽", "counter", "총 백십사 쪽", "총 백씹싸 쪽"),
        ("119", "number", "백십구", "백씹꾸"),
    ],
    "lot number": [
        (
            "경기도 양평군 산 45-2",
            "lot number",
            "경기도 양평군 산 사십오 다시 이",
            "경기도 양평군 산 사시보 다시 이",
        ),
        (
            "역삼동 736-12번지",
            "lot number",
            "역삼동 칠백삼십육 다시 십이 번지",
            "역쌈동 칠백쌈시뷱 따시 시비 번지",
        ),
        (
            "산 7-1번지에 있는 묘",
            "lot number",
            "산 칠 다시 일 번지에 있는 묘",
            "산 칠 다시 일 번지에 인는 묘",
        ),
        ("3-5번지", "lot number", "삼 다시 오 번지", "삼 다시 오 번지"),
        ("세종대로 209-1", "lot number", "세종대로 이백구 다시 일", "세종대로 이백꾸 다시 일"),
        (
            "판교역로 235-3에 있어요",
            "lot number",
            "판교역로 이백삼십오 다시 삼에 있어요",
            "판교영노 이백쌈시보 다시 사메 이써요",
        ),
        (
            "수원시 팔달구 인계동 1111-4",
            "lot number",
            "수원시 팔달구 인계동 천백십일 다시 사",
            "수원시 팔달구 인계동 천백씨빌 다시 사",
        ),
        ("102-1504호", "lot number", "백이 다시 천오백사 호", "배기 다시 처노백싸 호"),
        ("아파트 5-302호", "lot number", "아파트 오 다시 삼백이 호", "아파트 오 다시 삼배기 호"),
        (
            "래미안 아파트 103-205호",
            "lot number",
            "래미안 아파트 백삼 다시 이백오 호",
            "래미아 나파트 백쌈 다시 이배고 호",
        ),
        # Without an address word, rooms of the same length in rising order are a range.
        ("201-305호 강의실", "range", "이백일 호에서 삼백오 호 강의실", "이배길 호에서 삼배고 호 강의실"),
        ("4-6명", "range", "네 명에서 여섯 명", "네 명에서 여선 명"),
    ],
    "named date": [
        ("3.1절 기념식", "named date", "삼일절 기념식", "사밀절 기념식"),
        ("8.15 광복절", "named date", "팔일오 광복절", "파리로 광복쩔"),
        ("6.25 참전 용사", "named date", "육이오 참전 용사", "유기오 참저 뇽사"),
        ("4.19 혁명 기념탑", "named date", "사일구 혁명 기념탑", "사일구 형명 기념탑"),
        ("5.18 민주묘지", "named date", "오일팔 민주묘지", "오일팔 민주묘지"),
        ("6.10 민주항쟁", "named date", "육십 민주항쟁", "육씸 민주항쟁"),
        ("12.12 사태", "named date", "십이십이 사태", "시비시비 사태"),
        ("10.26 사건", "named date", "십이육 사건", "시비육 싸건"),
        ("4.3 사건", "named date", "사삼 사건", "사삼 사건"),
        ("5.18 때 광주에서", "named date", "오일팔 때 광주에서", "오일팔 때 광주에서"),
        ("6.25 이후 태어난 세대", "named date", "육이오 이후 태어난 세대", "유기오 이후 태어난 세대"),
        ("올해 5.18은 토요일이다", "named date", "올해 오일팔은 토요일이다", "올해 오일파른 토요이리다"),
        ("8/15 광복절", "named date", "팔일오 광복절", "파리로 광복쩔"),
        ("3/1절 연휴", "named date", "삼일절 연휴", "사밀저 련휴"),
        ("6/25 전쟁 때", "named date", "육이오 전쟁 때", "유기오 전쟁 때"),
        ("9·11 테러", "named date", "구일일 테러", "구이릴 테러"),
        # The same digits as a quantity: a unit follows or a measured word comes before.
        ("평균 5.18점", "counter", "평균 오 점 일팔 점", "평규 노 저 밀팔 점"),
        ("금리는 3.1로 올랐다", "number", "금리는 삼 점 일로 올랐다", "금니는 삼 저 밀로 올랃따"),
        ("지수 6.25", "number", "지수 육 점 이오", "지수 육 쩌 미오"),
        ("6.25달러", "currency", "육 달러 이십오 센트", "육 딸러 이시보 센트"),
        ("3.1 버전", "number", "삼 점 일 버전", "삼 저 밀 버전"),
    ],
    "promotion": [
        ("편의점 우유 1+1", "promotion", "편의점 우유 원 플러스 원", "펴늬저 무유 원 플러스 원"),
        ("라면 2+1 행사 중", "promotion", "라면 투 플러스 원 행사 중", "라면 투 플러스 원 행사 중"),
        ("3+1 이벤트", "promotion", "쓰리 플러스 원 이벤트", "쓰리 플러스 워 니벤트"),
        ("1+1으로 샀어요", "promotion", "원 플러스 원으로 샀어요", "원 플러스 워느로 사써요"),
        ("이번 주는 2+2", "promotion", "이번 주는 투 플러스 투", "이번 주는 투 플러스 투"),
        # Arithmetic stays arithmetic.
        ("2+3은 얼마일까", "number", "이 플러스 삼은 얼마일까", "이 플러스 사므 널마일까"),
        ("3+4=7", "number", "삼 플러스 사는 칠", "삼 플러스 사는 칠"),
        ("1 + 1", "number", "일 플러스 일", "일 플러스 일"),
        ("3+5는 8", "number", "삼 플러스 오는 팔", "삼 플러스 오는 팔"),  # more free than bought: a sum
    ],
    "score": [
        (
            "한국이 일본을 2-1로 꺾었다",
            "score",
            "한국이 일본을 이 대 일로 꺾었다",
            "한구기 일보느 리 대 일로 꺼껃따",
        ),
        ("전반을 1-0으로 앞섰다", "score", "전반을 일 대 영으로 앞섰다", "전바느 릴 대 영으로 압썯따"),
        ("세트 스코어 3:1", "score", "세트 스코어 삼 대 일", "세트 스코어 삼 대 일"),
        ("15:13으로 역전승", "score", "십오 대 십삼으로 역전승", "시보 대 십싸므로 역쩐승"),
        ("21:19로 이겼다", "score", "이십일 대 십구로 이겼다", "이시빌 대 십꾸로 이겯따"),
        ("4대2로 이겼다", "score", "사 대 이로 이겼다", "사 대 이로 이겯따"),
        ("5 대 5 미팅", "score", "오 대 오 미팅", "오 대 오 미팅"),
        ("1대1 상담", "score", "일 대 일 상담", "일 대 일 상담"),
        # A clock time, a count and a range in the same kind of sentence.
        (
            "이겼지만 19:30에 출발",
            "time",
            "이겼지만 십구 시 삼십 분에 출발",
            "이겯찌만 십꾸 시 삼십 뿌네 출발",
        ),
        (
            "경기는 오후 7:30 시작",
            "time",
            "경기는 오후 일곱 시 삼십 분 시작",
            "경기느 노후 일곱 씨 삼십 뿐 시작",
        ),
        ("차량 2대", "counter", "차량 두 대", "차량 두 대"),
        (
            "경기 중 2-3명이 다쳤다",
            "range",
            "경기 중 두 명에서 세 명이 다쳤다",
            "경기 중 두 명에서 세 명이 다첟따",
        ),
        ("3:30 경기에서 이겼다", "time", "세 시 삼십 분 경기에서 이겼다", "세 시 삼십 뿐 경기에서 이겯따"),
        (
            "23-24 시즌 경기에서 이겼다",
            "season",
            "이십삼 이십사 시즌 경기에서 이겼다",
            "이십싸 미십싸 시즌 경기에서 이겯따",
        ),
    ],
    "temperature": [
        ("내일은 -7도", "temperature", "내일은 영하 칠 도", "내이르 녕하 칠 도"),
        ("최저 기온 -12.5℃", "temperature", "최저 기온 영하 십이 점 오 도", "최저 기오 녕하 시비 저 모 도"),
        ("냉동실은 -18°C 이하", "temperature", "냉동실은 영하 십팔 도 이하", "냉동시르 녕하 십팔 도 이하"),
        ("영하 -10도", "temperature", "영하 십 도", "영하 십 또"),
        ("-4°F", "temperature", "화씨 영하 사 도", "화씨 영하 사 도"),
        ("온도 -2도씨", "temperature", "온도 영하 이 도씨", "온도 영하 이 도씨"),
        ("-3~2도", "range", "영하 삼 도에서 이 도", "영하 삼 도에서 이 도"),
        ("-15~-8℃", "range", "영하 십오 도에서 영하 팔 도", "영하 시보 도에서 영하 팔 도"),
        # An angle below zero is 마이너스.
        (
            "각도를 -15도로 조정",
            "counter",
            "각도를 마이너스 십오 도로 조정",
            "각또를 마이너스 시보 도로 조정",
        ),
        ("-5", "number", "마이너스 오", "마이너스 오"),
    ],
    "letters": [
        ("R&D 센터", "letters", "알앤디 센터", "아랜디 센터"),
        ("Q&A 게시판", "letters", "큐앤에이 게시판", "큐애네이 게시판"),
        ("M&A 시장", "letters", "엠앤에이 시장", "에매네이 시장"),
        ("P&G 제품", "letters", "피앤지 제품", "피앤지 제품"),
        ("H & M", "letters", "에이치앤엠", "에이치애넴"),
        ("B&B 숙소", "letters", "비앤비 숙소", "비앤비 숙쏘"),
        ("C# 강의", "letters", "씨샵 강의", "씨샵 깡의"),
        # C is 씨 in every context: words the CMU dictionary spells are spelled with our names.
        ("abc 마트", "english", "에이비씨 마트", "에이비씨 마트"),
        ("cnn 보도", "english", "씨엔엔 보도", "씨에넨 보도"),
        ("bbc 뉴스", "english", "비비씨 뉴스", "비비씨 뉴스"),
        ("ibm 서버", "english", "아이비엠 서버", "아이비엠 서버"),
        ("cctv 설치", "english", "씨씨티브이 설치", "씨씨티브이 설치"),
        ("CGV 영화관", "english", "씨지브이 영화관", "씨지브이 영화관"),
        # Two words or long acronyms with spaces around & keep 앤드.
        ("KBS & MBC", "english", "케이비에스 앤드 엠비씨", "케이비에스 앤드 엠비씨"),
    ],
    "chat": [
        ("ㅇㅋ 알겠어", "chat", "오케이 알겠어", "오케이 알게써"),
        ("ㄱㄱ 출발", "chat", "고고 출발", "고고 출발"),
        ("ㅇㅇ 맞아", "chat", "응응 맞아", "응응 마자"),
        ("ㄴㄴ 안 돼", "chat", "노노 안 돼", "노노 안 돼"),
        ("생일 ㅊㅋㅊㅋ", "chat", "생일 축하 축하", "생일 추카 추카"),
        ("도와줘서 ㄱㅅ", "chat", "도와줘서 감사", "도와줘서 감사"),
        ("늦어서 ㅈㅅ", "chat", "늦어서 죄송", "느서서 죄송"),
        ("그럼 ㅂㅂ", "chat", "그럼 바이바이", "그럼 바이바이"),
        ("ㅎㅇ 반가워", "chat", "하이 반가워", "하이 반가워"),
        ("오늘도 ㅅㄱ", "chat", "오늘도 수고", "오늘도 수고"),
        ("ㄱㅊ ㄱㅊ", "chat", "괜찮아 괜찮아", "괜차나 괜차나"),
        ("ㄹㅇ 대박", "chat", "레알 대박", "레알 대박"),
        ("ㄷㄷ 무섭다", "chat", "덜덜 무섭다", "덜덜 무섭따"),
        ("ㅇㅋㅋㅋ", "chat", "오케이 하하", "오케이 하하"),
        # Laughter, at most three beats.
        ("진짜 웃기다 ㅋㅋㅋㅋㅋㅋ", "laughter", "진짜 웃기다 하하하", "진짜 욷끼다 하하하"),
        ("ㅋㅋ 그거 나야", "laughter", "하하 그거 나야", "하하 그거 나야"),
        ("고마워요 ㅎㅎ", "laughter", "고마워요 헤헤", "고마워요 헤헤"),
        ("ㅎㅎㅎ 다행이다", "laughter", "헤헤헤 다행이다", "헤헤헤 다행이다"),
        ("그래 ㅋ", "laughter", "그래 하하", "그래 하하"),
        # A letter talked about is named.
        ("ㅎ 받침", "jamo", "히읗 받침", "히으 받침"),
        ("ㄱ자 모양", "jamo", "기역자 모양", "기역짜 모양"),
    ],
    "phone": [
        ("(051) 234-5678", "phone", "공오일 이삼사 오육칠팔", "공오이 리삼사 오육칠팔"),
        ("(02)-3456-7890", "phone", "공이 삼사오육 칠팔구공", "공이 삼사오육 칠팔구공"),
        ("031.765.4321", "phone", "공삼일 칠육오 사삼이일", "공사밀 치류고 사사미일"),
        (
            "+1 (646) 555-0199",
            "phone",
            "국가번호 일 육사육 오오오 공일구구",
            "국까번호 이 륙싸유 고오오 공일구구",
        ),
        (
            "+81 90-1234-5678",
            "phone",
            "국가번호 팔일 구공 일이삼사 오육칠팔",
            "국까번호 파릴 구공 이리삼사 오육칠팔",
        ),
        (
            "+61 2 9876 5432",
            "phone",
            "국가번호 육일 이 구팔칠육 오사삼이",
            "국까번호 유기 리 구팔치류 고사사미",
        ),
        ("+852 2345 6789", "phone", "국가번호 팔오이 이삼사오 육칠팔구", "국까번호 파로이 이삼사오 육칠팔구"),
        (
            "+33 6 12 34 56 78",
            "phone",
            "국가번호 삼삼 육 일이 삼사 오육 칠팔",
            "국까번호 삼사 뮤 기리 삼사 오육 칠팔",
        ),
        ("카드 뒤의 네 자리 7788", "digits", "카드 뒤의 네 자리 칠칠팔팔", "카드 뒤의 네 자리 칠칠팔팔"),
        ("끝의 4자리는 2024", "digits", "끝의 네 자리는 이공이사", "끄싀 네 자리느 니공이사"),
        ("휴대폰 번호 뒷자리 3030", "digits", "휴대폰 번호 뒷자리 삼공삼공", "휴대폰 번호 뒫짜리 삼공삼공"),
        ("마지막 네 자리 0415", "digits", "마지막 네 자리 공사일오", "마지망 네 자리 공사이로"),
        ("계좌 끝번호 9876", "digits", "계좌 끝번호 구팔칠육", "계좌 끋뻔호 구팔치륙"),
        ("last four digits 1234", "digits", "래스트 포 디저츠 일이삼사", "래스트 포 디저츠 이리삼사"),
    ],
    "money": [
        ("$4.99에 팔아요", "currency", "사 달러 구십구 센트에 팔아요", "사 달러 구십꾸 센트에 파라요"),
        ("$12.50", "currency", "십이 달러 오십 센트", "시비 달러 오십 쎈트"),
        ("$0.25", "currency", "이십오 센트", "이시보 센트"),
        ("€3.49", "currency", "삼 유로 사십구 센트", "사 뮤로 사십꾸 센트"),
        ("£1.05", "currency", "일 파운드 오 펜스", "일 파운드 오 펜스"),
        ("US$19.90", "currency", "십구 달러 구십 센트", "십꾸 달러 구십 쎈트"),
        ("12.99달러", "currency", "십이 달러 구십구 센트", "시비 달러 구십꾸 센트"),
        ("USD 7.25", "currency", "칠 달러 이십오 센트", "칠 달러 이시보 센트"),
        (
            "$4.99~$9.99",
            "currency",
            "사 달러 구십구 센트에서 구 달러 구십구 센트",
            "사 달러 구십꾸 센트에서 구 달러 구십꾸 센트",
        ),
        ("usd 200", "currency", "이백 달러", "이백 딸러"),
        ("50 eur", "currency", "오십 유로", "오시 뷰로"),
        ("jpy 3000", "currency", "삼천 엔", "삼처 넨"),
        ("krw 12,000", "currency", "만 이천 원", "마 니처 눤"),
        ("25,000.00원", "currency", "이만 오천 원", "이마 노처 눤"),
        ("1.50만 원", "currency", "일 점 오만 원", "일 저 모마 눤"),
        ("$3.00", "currency", "삼 달러", "삼 달러"),
        ("¥500.0", "currency", "오백 엔", "오배 겐"),
        # One decimal is a decimal; a lower-case English word is not a currency code.
        ("$1.5", "currency", "일 점 오 달러", "일 저 모 달러"),
        ("php 8 버전", "english", "피에이치피 팔 버전", "피에이치피 팔 버전"),
    ],
    "address": [
        ("abc@xyz.com", "email", "에이비씨 골뱅이 엑스와이지 닷 컴", "에이비씨 골뱅이 엑쓰와이지 닫 컴"),
        (
            "cs@kbs.co.kr",
            "email",
            "씨에스 골뱅이 케이비에스 닷 씨오 닷 케이알",
            "씨에스 골뱅이 케이비에스 닫 씨오 닫 케이알",
        ),
        ("ibm.com", "domain", "아이비엠 닷 컴", "아이비엠 닫 컴"),
        (
            "admin@kaist.ac.kr",
            "email",
            "어드민 골뱅이 카이스트 닷 에이씨 닷 케이알",
            "어드민 골뱅이 카이스트 다 데이씨 닫 케이알",
        ),
        ("www.cnn.com", "url", "더블유더블유더블유 닷 씨엔엔 닷 컴", "더브류더브류더브류 닫 씨에넨 닫 컴"),
        ("news.bbc.co.uk", "domain", "뉴스 닷 비비씨 닷 씨오 닷 유케이", "뉴스 닫 삐비씨 닫 씨오 다 듀케이"),
        (
            "jh.lee@abc.co.kr",
            "email",
            "제이에이치 닷 리 골뱅이 에이비씨 닷 씨오 닷 케이알",
            "제이에이치 단 니 골뱅이 에이비씨 닫 씨오 닫 케이알",
        ),
        ("hello@mnet.com", "email", "헬로 골뱅이 엠엔이티 닷 컴", "헬로 골뱅이 에메니티 닫 컴"),
    ],
    "maths and units": [
        ("√9 = 3", "root", "루트 구는 삼", "루트 구는 삼"),
        ("∛27", "root", "세제곱근 이십칠", "세제곱끄 니십칠"),
        ("∜16", "root", "네제곱근 십육", "네제곱끈 시뷱"),
        ("1/√2", "fraction", "루트 이분의 일", "루트 이부늬 일"),
        ("2√5/5", "fraction", "오분의 이 루트 오", "오부늬 이 루트 오"),
        ("√2/3", "fraction", "삼분의 루트 이", "삼부늬 루트 이"),
        ("√5m", "root", "루트 오 미터", "루트 오 미터"),
        ("√10cm", "root", "루트 십 센티미터", "루트 십 쎈티미터"),
        ("2 1/2컵", "fraction", "두 컵 반", "두 컵 빤"),
        ("1½시간", "fraction", "한 시간 반", "한 시간 반"),
        ("3 1/2 tsp", "fraction", "삼과 이분의 일 티스푼", "삼과 이부늬 일 티스푼"),
        ("1 1/4 cups", "fraction", "일과 사분의 일 컵", "일과 사부늬 일 컵"),
        ("2 3/4kg", "fraction", "이와 사분의 삼 킬로그램", "이와 사부늬 삼 킬로그램"),
        ("5 inches", "unit", "오 인치", "오 인치"),
        ("2 cups", "unit", "두 컵", "두 컵"),
        ("15km/hr", "unit", "시속 십오 킬로미터", "시속 씨보 킬로미터"),
        ("11km/s", "unit", "초속 십일 킬로미터", "초속 씨빌 킬로미터"),
        ("60mi/h", "unit", "시속 육십 마일", "시소 귝씸 마일"),
        ("2,500원/kg", "rate", "킬로그램당 이천오백 원", "킬로그램당 이처노배 권"),
        ("8,000원/시간", "rate", "시간당 팔천 원", "시간당 팔처 눤"),
        ("$10/hour", "rate", "시간당 십 달러", "시간당 십 딸러"),
        ("500원/개", "rate", "개당 오백 원", "개당 오배 권"),
        ("$30/night", "rate", "일 박당 삼십 달러", "일 박땅 삼십 딸러"),
        ("5만원/월", "rate", "월 오만원", "워 로마눤"),
    ],
    "range": [
        ("10시~17시", "range", "열 시에서 열일곱 시", "열 시에서 여릴곱 씨"),
        (
            "08:30~17:30",
            "time",
            "여덟 시 삼십 분에서 열일곱 시 삼십 분",
            "여덜 씨 삼십 뿌네서 여릴곱 씨 삼십 뿐",
        ),
        ("오전 10시~15시", "range", "오전 열 시에서 오후 세 시", "오저 녈 시에서 오후 세 시"),
        ("오후 1시~18시", "range", "오후 한 시에서 여섯 시", "오후 한 시에서 여섣 씨"),
        ("11시부터 14시까지", "counter", "열한 시부터 열네 시까지", "열한 시부터 열레 시까지"),
        (
            "오전 8시부터 오후 17시까지",
            "counter",
            "오전 여덟 시부터 오후 다섯 시까지",
            "오저 녀덜 씨부터 오후 다섣 씨까지",
        ),
        ("오후 20시", "counter", "오후 여덟 시", "오후 여덜 씨"),
        (
            "14:00~16:00",
            "time",
            "십사 시에서 십육 시",
            "십싸 시에서 시뷱 씨",
        ),  # both on the 24-hour clock already
        ("2~3일간", "range", "이삼 일간", "이사 밀간"),
        ("5~6년간", "range", "오륙 년간", "오륭 년간"),
        ("10~15일간", "range", "십 일에서 십오 일간", "시 비레서 시보 일간"),
        ("1~2주간", "range", "일이 주간", "이리 주간"),
        ("3~4개월간", "range", "삼사 개월간", "삼사 개월간"),
        ("2~3일 정도", "range", "이삼 일 정도", "이사 밀 정도"),
        ("4~5개쯤", "range", "네댓 개쯤", "네댇 깨쯤"),
        ("2~3번 정도", "range", "두세 번 정도", "두세 번 정도"),  # times are counted natively
        ("2~3kg 정도", "range", "이 킬로그램에서 삼 킬로그램 정도", "이 킬로그래메서 삼 킬로그램 정도"),
        ("3월 4~5일", "range", "삼월 사 일에서 오 일", "사뭘 사 이레서 오 일"),  # dates, not a duration
        ("2020-2021 시즌", "season", "이천이십 이천이십일 시즌", "이처니시 비처니시빌 시즌"),
        ("2024-25 시즌", "season", "이천이십사 이십오 시즌", "이처니십싸 이시보 시즌"),
        ("2023/24 시즌", "season", "이천이십삼 이십사 시즌", "이처니십싸 미십싸 시즌"),
        ("2025-2026 학년도", "season", "이천이십오 이천이십육 학년도", "이처니시보 이처니시뷰 캉년도"),
        (
            "2019-2021 시즌",
            "range",
            "이천십구 시즌에서 이천이십일 시즌",
            "이천십꾸 시즈네서 이처니시빌 시즌",
        ),  # not one season
    ],
    "arrow": [
        ("인천→제주 항공권", "arrow", "인천에서 제주까지 항공권", "인처네서 제주까지 항공권"),
        ("서울 → 강릉 2시간", "arrow", "서울에서 강릉까지 두 시간", "서우레서 강능까지 두 시간"),
        ("부산→대구→서울", "arrow", "부산에서 대구를 거쳐 서울까지", "부사네서 대구를 거처 서울까지"),
        (
            "3,000원→2,500원 인하",
            "arrow",
            "삼천 원에서 이천오백 원으로 인하",
            "삼처 눠네서 이처노배 궈느로 인하",
        ),
        (
            "요금 1,200원→1,400원",
            "arrow",
            "요금 천이백 원에서 천사백 원으로",
            "요금 처니배 궈네서 천사배 궈느로",
        ),
        ("본사 강남→판교로 이전", "arrow", "본사 강남에서 판교로 이전", "본사 강나메서 판교로 이전"),
        ("10%→15%", "arrow", "십 퍼센트에서 십오 퍼센트로", "십 퍼센트에서 시보 퍼센트로"),
        ("서울역 ➡ 부산역", "arrow", "서울역에서 부산역까지", "서울려게서 부사녁까지"),
        ("광주 -> 목포", "arrow", "광주에서 목포까지", "광주에서 목포까지"),
        ("ICN→NRT 직항", "arrow", "아이씨엔에서 엔알티까지 직항", "아이씨에네서 에날티까지 지캉"),
        # An arrow between other things is a pause, not a route.
        ("원인 → 결과", "arrow", "원인, 결과", "워닌, 결과"),
        ("수요 증가 → 가격 상승", "arrow", "수요 증가, 가격 상승", "수요 증가, 가격 쌍승"),
    ],
}

FLAT = [(category, *case) for category, cases in CASES.items() for case in cases]
IDS = [f"{category}:{text}" for category, text, *_ in FLAT]


@pytest.fixture(scope="module")
def g2p_loaded() -> None:
    from forv_tts.text.g2p import get_g2p

    get_g2p()


@pytest.mark.parametrize(("category", "text", "rule", "expanded", "pronounced"), FLAT, ids=IDS)
def test_expanded(category: str, text: str, rule: str, expanded: str, pronounced: str) -> None:
    assert expand(text) == expanded


@pytest.mark.parametrize(("category", "text", "rule", "expanded", "pronounced"), FLAT, ids=IDS)
def test_explain_names_the_rule(category: str, text: str, rule: str, expanded: str, pronounced: str) -> None:
    [sentence] = explain(text)
    assert rule in [rewrite["rule"] for rewrite in sentence["rewrites"]]


@pytest.mark.parametrize(("category", "text", "rule", "expanded", "pronounced"), FLAT, ids=IDS)
def test_pronounced(
    g2p_loaded: None, category: str, text: str, rule: str, expanded: str, pronounced: str
) -> None:
    assert normalize(text) == [pronounced]


def test_table_size() -> None:
    assert len(FLAT) >= 150
    assert all(len(cases) >= 8 for cases in CASES.values())
    assert len({text for _, text, *_ in FLAT}) == len(FLAT)
