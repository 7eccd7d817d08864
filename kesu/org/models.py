"""Organisation: the company, its management offices (管理处), departments, buildings, units,
residents and staff accounts."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import COMPANY_ROLES, DEPARTMENT_ROLES, OFFICE_ROLES, DepartmentType, ResidentKind, Role

office_code_validator = RegexValidator(r"^[A-Za-z0-9]{1,10}$", _("编码只能包含字母和数字，最多10位。"))


class Company(models.Model):
    name = models.CharField(_("公司名称"), max_length=100)
    # Households across the company come from the offices; the company row carries settings.

    class Meta:
        verbose_name = _("公司")
        verbose_name_plural = _("公司")

    def __str__(self) -> str:
        return self.name


class Office(models.Model):
    """A management office (管理处 / 项目): one residential estate."""

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="offices", verbose_name=_("公司")
    )
    code = models.CharField(_("编码"), max_length=10, unique=True, validators=[office_code_validator])
    name = models.CharField(_("名称"), max_length=100)
    households = models.PositiveIntegerField(_("户数"), default=0)
    # The front desk's working window (docs/procedures.md §4, working hours); default 08:00–19:00.
    work_start = models.TimeField(_("工作时间开始"), default=dt.time(8, 0))
    work_end = models.TimeField(_("工作时间结束"), default=dt.time(19, 0))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("管理处")
        verbose_name_plural = _("管理处")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Department(models.Model):
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="departments", verbose_name=_("管理处")
    )
    type = models.CharField(_("类型"), max_length=20, choices=DepartmentType.choices)
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["office__code", "type", "name"]
        constraints = [models.UniqueConstraint(fields=["office", "name"], name="department_unique_name")]

    def __str__(self) -> str:
        return f"{self.office.code} {self.name}"


class Building(models.Model):
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("管理处")
    )
    name = models.CharField(_("栋"), max_length=30, help_text=_("例如：3栋"))

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["office__code", "name"]
        constraints = [models.UniqueConstraint(fields=["office", "name"], name="building_unique_name")]

    def __str__(self) -> str:
        return f"{self.office.code} {self.name}"


class Unit(models.Model):
    """A home (栋/房号). `code` is the stable look-up key, e.g. `Y01-3栋-1201`."""

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("楼栋")
    )
    number = models.CharField(_("房号"), max_length=20)
    code = models.CharField(_("编码"), max_length=60, unique=True, editable=False)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["building", "number"], name="unit_unique_number")]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs) -> None:
        self.code = self.make_code(self.building.office.code, self.building.name, self.number)
        super().save(*args, **kwargs)

    @staticmethod
    def make_code(office_code: str, building: str, number: str) -> str:
        return f"{office_code}-{building}-{number}"

    @property
    def label(self) -> str:
        return f"{self.building.name}-{self.number}"


class Resident(models.Model):
    """A person living in or owning a unit; several per unit, and one person may appear for several units."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="residents", verbose_name=_("房屋"))
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("电话"), max_length=20, db_index=True)
    kind = models.CharField(
        _("身份"), max_length=10, choices=ResidentKind.choices, default=ResidentKind.OWNER
    )

    class Meta:
        verbose_name = _("业主/住户")
        verbose_name_plural = _("业主/住户")
        ordering = ["unit__code", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit.code})"


class User(AbstractUser):
    """A staff account (or a resident's portal account). Role and scope decide what it sees."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.RECEPTIONIST)
    offices = models.ManyToManyField(Office, blank=True, related_name="staff", verbose_name=_("所属管理处"))
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
        verbose_name=_("所属部门"),
    )
    phone = models.CharField(_("电话"), max_length=20, blank=True)
    display_name = models.CharField(_("显示名"), max_length=50, blank=True)
    # Night duty (值班): receives new complaints registered outside working hours.
    on_night_duty = models.BooleanField(_("值班人员"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_company_wide(self) -> bool:
        return self.is_superuser or self.role in COMPANY_ROLES

    @property
    def is_office_staff(self) -> bool:
        return self.role in OFFICE_ROLES

    @property
    def is_department_staff(self) -> bool:
        return self.role in DEPARTMENT_ROLES


class CalendarOverride(models.Model):
    """A company-set working day or day off, overriding China's official calendar.

    The `chinesecalendar` package only knows years the State Council has announced; admins add
    the next year's holidays and 调休 days here when they are published (see decision 0002).
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是工作日"), help_text=_("勾选：上班（调休）；不勾选：放假"))
    name = models.CharField(_("说明"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '放假'} {self.name}"
