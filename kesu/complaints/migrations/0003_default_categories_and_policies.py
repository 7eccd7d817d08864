"""The eleven default content categories (GLOSSARY.md) and the company-default time limits (kesu.complaints.sla_defaults)."""

from django.db import migrations

from kesu.complaints.sla_defaults import DEFAULT_POLICIES  # plain data, kept importable for this

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


def forwards(apps, schema_editor):
    Category = apps.get_model("complaints", "Category")
    for order, (code, name, description) in enumerate(CATEGORIES, start=1):
        Category.objects.update_or_create(code=code, defaults={"name": name, "description": description, "order": order})
    SlaPolicy = apps.get_model("complaints", "SlaPolicy")
    # Only the fields the table has at this point of its history; later migrations add (and seed) theirs.
    known = {f.name for f in SlaPolicy._meta.get_fields()}
    for severity, values in DEFAULT_POLICIES.items():
        defaults = {name: value for name, value in values.items() if name in known}
        SlaPolicy.objects.update_or_create(office=None, severity=severity, defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
