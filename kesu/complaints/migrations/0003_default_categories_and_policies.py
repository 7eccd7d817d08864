"""The eleven default content categories (GLOSSARY.md) and the company-default time limits (SPEC §4)."""

from django.db import migrations

CATEGORIES = [
    ("facilities", "设施设备维护", "电梯、供水供电、照明、管道、屋面、公共部位渗漏"),
    ("security", "安全服务", "保安、门禁、盗窃、陌生人"),
    ("fire", "消防管理", "消防通道、灭火器、消防隐患"),
    ("traffic", "车辆交通服务", "停车、私家车位、车库、车速"),
    ("environment", "环境服务", "清洁、垃圾、绿化、消杀、噪音、异味"),
    ("construction", "施工管理", "小区内装修及施工"),
    ("fees", "收费管理", "物业费及其他收费"),
    ("clubhouse", "会所服务", "会所服务"),
    ("service", "客户服务", "员工态度、响应速度、公司行为"),
    ("home_service", "上门服务", "户内维修及上门服务"),
    ("internal", "内部管理", "公司内部管理"),
]

# severity, forward min, night waits, report min, answer h, resolve h, resolve working, honour requested,
# callback h, callback working, onsite, callback by
POLICIES = [
    ("major", 10, False, 60, 24, 24, False, False, 24, False, True, "manager"),
    ("general", 20, True, None, 48, 24, True, False, 24, False, False, "supervisor"),
    ("minor", 30, True, None, 48, 24, True, True, 24, False, False, "supervisor"),
]


def forwards(apps, schema_editor):
    Category = apps.get_model("complaints", "Category")
    for order, (code, name, description) in enumerate(CATEGORIES, start=1):
        Category.objects.update_or_create(code=code, defaults={"name": name, "description": description, "order": order})
    SlaPolicy = apps.get_model("complaints", "SlaPolicy")
    for sev, fwd, night, report, answer, resolve, rw, honour, cb, cbw, onsite, by in POLICIES:
        SlaPolicy.objects.update_or_create(
            office=None,
            severity=sev,
            defaults=dict(
                forward_minutes=fwd,
                night_waits_for_morning=night,
                report_minutes=report,
                answer_hours=answer,
                resolve_hours=resolve,
                resolve_in_working_hours=rw,
                honour_requested_time=honour,
                callback_hours=cb,
                callback_in_working_hours=cbw,
                callback_onsite_required=onsite,
                callback_by=by,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
