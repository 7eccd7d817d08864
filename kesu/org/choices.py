from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Staff roles (docs/procedures.md, "People and roles"). The escalation ladder, which tier reaches
    which role, is kesu.complaints.policy.TIER_ROLES."""

    RECEPTIONIST = "receptionist", _("客服接待/值班人员")
    SUPERVISOR = "supervisor", _("客服主管")
    CS_MANAGER = "cs_manager", _("客服中心经理")
    HANDLER = "handler", _("责任部门处理人")
    DEPT_MANAGER = "dept_manager", _("责任部门经理")
    DIRECTOR = "director", _("管理处主任")
    QUALITY = "quality", _("品质管理部")
    EXECUTIVE = "executive", _("公司领导")
    ADMIN = "admin", _("系统管理员")
    RESIDENT = "resident", _("业主/住户")


# Roles that work inside one or more offices (scoped by User.offices).
OFFICE_ROLES = frozenset({Role.RECEPTIONIST, Role.SUPERVISOR, Role.CS_MANAGER, Role.DIRECTOR})
# Roles that work inside one department (scoped by User.department).
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.DEPT_MANAGER})
# Roles that see the whole company.
COMPANY_ROLES = frozenset({Role.QUALITY, Role.EXECUTIVE, Role.ADMIN})


class DepartmentType(models.TextChoices):
    CS_CENTER = "cs_center", _("客服中心")
    DUTY_ROOM = "duty_room", _("监控中心")
    ENGINEERING = "engineering", _("工程部")
    SECURITY = "security", _("保安部")
    CLEANING = "cleaning", _("环境/保洁")
    LANDSCAPING = "landscaping", _("绿化")
    BILLING = "billing", _("收费/财务")
    CLUBHOUSE = "clubhouse", _("会所")
    HOUSEKEEPING = "housekeeping", _("管家部")
    OTHER = "other", _("其他")


class ResidentKind(models.TextChoices):
    OWNER = "owner", _("业主")
    FAMILY = "family", _("家庭成员")
    TENANT = "tenant", _("租户")
