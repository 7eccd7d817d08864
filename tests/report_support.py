"""Hand-built data sets for the report tests, made through the lifecycle (services.py) with back-dated
times. Every figure the tests expect was worked out by hand from the story told here.

February 2026 in Asia/Shanghai (offices Y01 翠湖花园 and Y02 锦绣华庭 of the `org` fixture, 1000
homes on file each, plus Y03 南山丽都, no homes loaded and 500 households configured, with no
complaints at all: 2,500 households in all, kesu.org.homes):

| key | office | received (local)   | nature     | category     | what happens                                           |
| A1  | Y01    | Sat 28 Feb 23:59   | valid      | facilities   | nothing (forward and resolve overdue)                  |
| A2  | Y01    | Sun  1 Mar 00:00   | valid      | facilities   | March: not in February                                 |
| A3  | Y01    | Sun  1 Feb 00:00   | valid      | security     | forwarded, resolved, called back in time; closed       |
| A4  | Y01    | Sat 31 Jan 23:59   | valid      | facilities   | January: previous period; nothing                      |
| A5  | Y01    | Tue 10 Feb 10:00   | assist     | environment  | forwarded in time, resolved, callback 3 days late      |
| A6  | Y01    | Wed 11 Feb 10:00   | invalid    | fees         | answered on the spot, closed without callback          |
| A7  | Y01    | Thu 12 Feb 10:00   | valid MAJOR| facilities   | forwarded late, resolved late, dissatisfied, reopened, |
|     |        |                    |            |              | resolved again, satisfied, closed                      |
| A8  | Y01    | Fri 13 Feb 10:00   | (none)     | (none)       | not judged yet; forward overdue                        |
| A9  | Y01    | Mon  9 Feb 10:00   | valid      | service      | registered by the company (quality); resolved in time, |
|     |        |                    |            |              | callback overdue                                       |
| B1  | Y02    | Thu  5 Feb 10:00   | valid      | facilities   | forwarded, resolved, called back in time (director2)   |
| B5  | Y02    | Thu  5 Feb 10:30   | valid      | facilities   | merged into B1                                         |
| B2  | Y02    | Fri  6 Feb 10:00   | valid      | security     | repeat of B4; forward and resolve overdue              |
| B3  | Y02    | Wed  4 Feb 10:00   | assist     | environment  | nothing (forward overdue)                              |
| B4  | Y02    | Thu 15 Jan 10:00   | valid      | security     | January: forwarded, resolved, called back; closed      |
| B6  | Y02    | Tue  3 Feb 10:00   | invalid    | traffic      | declined                                               |
| C1  | Y02    | Wed 31 Dec 23:59   | valid      | fees         | December 2025 (a period across the year end)           |

All measured as of AS_OF (15 March 2026 12:00).
"""

from __future__ import annotations

from types import SimpleNamespace

from conftest import local

from kesu.complaints import services
from kesu.org.choices import DepartmentType
from kesu.org.models import Building, Office, Unit

AS_OF = local(2026, 3, 15, 12, 0)
LESSON = {"lesson_cause": "巡查不到位", "lesson_learned": "加强巡查", "lesson_prevention": "每日巡查两次"}


def load_homes(office: Office, n: int, building: str = "9栋") -> None:
    """Homes on file for `office` until it has `n` of them (a building of numbered homes)."""
    have = Unit.objects.filter(building__office=office).count()
    b, _created = Building.objects.get_or_create(office=office, name=building)
    numbers = [f"{i:04d}" for i in range(1, n - have + 1)]
    Unit.objects.bulk_create(
        [Unit(building=b, number=x, code=Unit.make_code(office.code, b.name, x)) for x in numbers]
    )


def build_data(org) -> SimpleNamespace:
    a, b = org.a, org.b
    eng_a = a.dept[DepartmentType.ENGINEERING]
    sec_a = a.dept[DepartmentType.SECURITY]
    eng_b = b.dept[DepartmentType.ENGINEERING]
    sec_b = b.dept[DepartmentType.SECURITY]
    load_homes(a.office, 1000)
    load_homes(b.office, 1000)
    Office.objects.create(company=org.company, code="Y03", name="南山丽都", households=500)

    def reg(by, office, received, at, content, **kw):
        return services.register(
            by,
            office=office,
            channel="phone",
            content=content,
            complainant_name="王建国",
            received_at=received,
            at=at,
            **kw,
        )

    gen = {"severity": "general"}
    s = SimpleNamespace()

    # --- office A (Y01)
    s.A1 = reg(
        org.reception,
        a.office,
        local(2026, 2, 28, 23, 59),
        local(2026, 3, 1, 9, 0),
        "3栋2号电梯经常停运，昨晚困了一位老人十多分钟。",
        nature="valid",
        category="facilities",
        **gen,
    )
    s.A2 = reg(
        org.reception,
        a.office,
        local(2026, 3, 1, 0, 0),
        local(2026, 3, 1, 9, 5),
        "5栋电梯按钮失灵。",
        nature="valid",
        category="facilities",
        **gen,
    )
    s.A3 = reg(
        org.reception,
        a.office,
        local(2026, 2, 1, 0, 0),
        local(2026, 2, 1, 0, 5),
        "门岗保安在岗亭睡觉，外来人员随便进出。",
        nature="valid",
        category="security",
        **gen,
    )
    s.A3 = services.dispatch(s.A3, org.supervisor, department=sec_a, at=local(2026, 2, 2, 8, 10))
    s.A3 = services.resolve(
        s.A3, org.supervisor, resolution="已约谈门岗保安并调整排班。", at=local(2026, 2, 2, 10, 0)
    )
    s.A3 = services.call_back(
        s.A3,
        org.supervisor,
        method="phone",
        satisfaction="satisfied",
        words="满意",
        at=local(2026, 2, 2, 15, 0),
    )
    s.A3 = services.close(s.A3, org.supervisor, at=local(2026, 2, 2, 16, 0), **LESSON)

    s.A4 = reg(
        org.reception,
        a.office,
        local(2026, 1, 31, 23, 59),
        local(2026, 2, 1, 8, 0),
        "地下车库灯坏了一半。",
        nature="valid",
        category="facilities",
        **gen,
    )
    s.A5 = reg(
        org.reception,
        a.office,
        local(2026, 2, 10, 10, 0),
        local(2026, 2, 10, 10, 1),
        "楼上邻居装修噪音很大，周末一早就开始打电钻。",
        nature="assist",
        category="environment",
        **gen,
    )
    s.A5 = services.dispatch(s.A5, org.supervisor, department=eng_a, at=local(2026, 2, 10, 10, 5))
    s.A5 = services.resolve(
        s.A5, org.supervisor, resolution="已上门劝导装修户。", at=local(2026, 2, 10, 12, 0)
    )
    s.A5 = services.call_back(
        s.A5,
        org.supervisor,
        method="phone",
        satisfaction="basically_satisfied",
        words="还行",
        at=local(2026, 2, 13, 12, 0),
    )
    s.A6 = reg(
        org.reception,
        a.office,
        local(2026, 2, 11, 10, 0),
        local(2026, 2, 11, 10, 2),
        "询问物业费为什么比去年高。",
        nature="invalid",
        category="fees",
        severity="minor",
        on_spot_answer="已当场解释收费标准未变，系面积核算方式说明。",
    )
    s.A6 = services.close(s.A6, org.supervisor, at=local(2026, 2, 11, 11, 0))

    s.A7 = reg(
        org.reception,
        a.office,
        local(2026, 2, 12, 10, 0),
        local(2026, 2, 12, 10, 1),
        "1号电梯运行时有明显异响，轿厢晃得很厉害，有业主吓得不敢再坐。",
        nature="valid",
        category="facilities",
        severity="major",
        is_major=True,
    )
    s.A7 = services.dispatch(s.A7, org.supervisor, department=eng_a, at=local(2026, 2, 12, 10, 30))
    s.A7 = services.resolve(
        s.A7, org.supervisor, resolution="已请维保单位检修。", at=local(2026, 2, 14, 10, 0)
    )
    s.A7 = services.call_back(
        s.A7,
        org.cs_manager,
        method="onsite",
        satisfaction="dissatisfied",
        words="还在响",
        rectify_due_at=local(2026, 2, 20, 18, 0),
        at=local(2026, 2, 14, 12, 0),
    )
    s.A7 = services.resolve(s.A7, org.supervisor, resolution="已更换导靴。", at=local(2026, 2, 16, 10, 0))
    s.A7 = services.call_back(
        s.A7,
        org.director,
        method="onsite",
        satisfaction="satisfied",
        words="好了",
        at=local(2026, 2, 16, 11, 0),
    )
    s.A7 = services.report(
        s.A7, org.director, summary="电梯异响，业主投诉至媒体。", at=local(2026, 2, 16, 11, 30)
    )
    s.A7 = services.close(s.A7, org.director, at=local(2026, 2, 16, 12, 0), **LESSON)

    s.A8 = reg(
        org.reception,
        a.office,
        local(2026, 2, 13, 10, 0),
        local(2026, 2, 13, 10, 1),
        "业主来电反映情况，未说明具体内容。",
    )
    s.A9 = reg(
        org.quality,
        a.office,
        local(2026, 2, 9, 10, 0),
        local(2026, 2, 9, 10, 1),
        "前台客服态度恶劣，打电话咨询时很不耐烦。",
        nature="valid",
        category="service",
        **gen,
    )
    s.A9 = services.dispatch(s.A9, org.quality, department=eng_a, at=local(2026, 2, 9, 10, 10))
    s.A9 = services.resolve(
        s.A9, org.quality, resolution="已对客服人员进行批评教育。", at=local(2026, 2, 9, 16, 0)
    )

    # --- office B (Y02)
    s.B4 = reg(
        org.reception2,
        b.office,
        local(2026, 1, 15, 10, 0),
        local(2026, 1, 15, 10, 1),
        "保安巡逻不到位，电动车被偷。",
        nature="valid",
        category="security",
        **gen,
    )
    s.B4 = services.dispatch(s.B4, org.director2, department=sec_b, at=local(2026, 1, 15, 10, 5))
    s.B4 = services.resolve(
        s.B4, org.director2, resolution="已调取监控并报警。", at=local(2026, 1, 15, 12, 0)
    )
    s.B4 = services.call_back(
        s.B4,
        org.director2,
        method="phone",
        satisfaction="satisfied",
        words="满意",
        at=local(2026, 1, 15, 13, 0),
    )
    s.B4 = services.close(s.B4, org.director2, at=local(2026, 1, 15, 14, 0), **LESSON)

    s.B1 = reg(
        org.reception2,
        b.office,
        local(2026, 2, 5, 10, 0),
        local(2026, 2, 5, 10, 1),
        "地下车库排水管爆裂，污水流了一地，电梯井也进了水。",
        nature="valid",
        category="facilities",
        **gen,
    )
    s.B1 = services.dispatch(s.B1, org.director2, department=eng_b, at=local(2026, 2, 5, 10, 10))
    s.B5 = reg(
        org.reception2,
        b.office,
        local(2026, 2, 5, 10, 30),
        local(2026, 2, 5, 10, 31),
        "地下车库排水管爆裂，污水流进车位。",
        nature="valid",
        category="facilities",
        **gen,
    )
    s.B5 = services.merge(s.B5, org.director2, target=s.B1, reason="同一问题", at=local(2026, 2, 5, 11, 0))
    s.B1.refresh_from_db()
    s.B1 = services.resolve(s.B1, org.director2, resolution="已抢修排水管。", at=local(2026, 2, 5, 12, 0))
    s.B1 = services.call_back(
        s.B1,
        org.director2,
        method="phone",
        satisfaction="satisfied",
        words="满意",
        at=local(2026, 2, 5, 14, 0),
    )
    s.B2 = reg(
        org.reception2,
        b.office,
        local(2026, 2, 6, 10, 0),
        local(2026, 2, 6, 10, 1),
        "门岗保安又在睡觉，上次反映的问题没有答复。",
        nature="valid",
        category="security",
        **gen,
    )
    s.B2 = services.link_repeat(
        s.B2, org.director2, target=s.B4, reason="同一问题再次投诉", at=local(2026, 2, 6, 10, 30)
    )
    s.B3 = reg(
        org.reception2,
        b.office,
        local(2026, 2, 4, 10, 0),
        local(2026, 2, 4, 10, 1),
        "楼上小孩每天晚上跑跳，噪音很大，请物业协调。",
        nature="assist",
        category="environment",
        **gen,
    )
    s.B6 = reg(
        org.reception2,
        b.office,
        local(2026, 2, 3, 10, 0),
        local(2026, 2, 3, 10, 1),
        "小区外市政道路堵车严重，要求物业解决。",
        nature="invalid",
        category="traffic",
        **gen,
    )
    s.B6 = services.decline(
        s.B6,
        org.director2,
        reason="outside_responsibility",
        explanation="市政道路不属于物业管理范围，已告知业主拨打市民热线。",
        at=local(2026, 2, 3, 10, 5),
    )
    s.C1 = reg(
        org.reception2,
        b.office,
        local(2025, 12, 31, 23, 59),
        local(2026, 1, 1, 9, 0),
        "物业费账单面积与房产证不一致。",
        nature="valid",
        category="fees",
        **gen,
    )
    return s


def settled_enquiry(org, at=None):
    """An enquiry about parking answered at the counter in Y01 on 17 February: settled, owes no
    callback, and the report counts it apart from the complaints."""
    at = at or local(2026, 2, 17, 10, 0)
    return services.register(
        org.reception,
        office=org.a.office,
        channel="visit",
        content="来访询问停车月卡如何办理。",
        complainant_name="赵女士",
        nature="invalid",
        nature_subtype="enquiry",
        severity="minor",
        category="traffic",
        on_spot_answer="已当场告知办理流程和所需材料。",
        received_at=at,
        at=at,
    )
