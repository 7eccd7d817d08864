from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from . import homes
from .models import Building, CalendarOverride, Company, Department, Office, Resident, Unit, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record that changes only through its own code (the lifecycle, the sweeper): view it, no more."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name"]


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "households", "counted_households", "work_start", "work_end", "is_active"]
    search_fields = ["code", "name"]
    inlines = [DepartmentInline]

    def get_queryset(self, request):
        return homes.with_units_on_file(super().get_queryset(request))

    @admin.display(description=_("统计户数"))
    def counted_households(self, obj: Office) -> str:
        h = homes.households(obj)
        if h.source == homes.UNITS:
            return _("%(n)s（在册房屋）") % {"n": h.count}
        return _("%(n)s（未录入房屋，按设定户数）") % {"n": h.count}


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "office"]
    list_filter = ["type", "office"]


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["name", "office"]
    list_filter = ["office"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "building", "number"]
    search_fields = ["code"]
    list_select_related = ["building__office"]
    autocomplete_fields = ["building"]

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_term)


BuildingAdmin.search_fields = ["name", "office__code"]


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "kind"]
    search_fields = ["name", "phone", "unit__code"]
    autocomplete_fields = ["unit"]
    list_select_related = ["unit"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "role", "department", "is_active"]
    list_filter = ["role", "is_active", "offices"]
    filter_horizontal = ["offices", "groups", "user_permissions"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (
            _("角色与范围"),
            {"fields": ["display_name", "role", "offices", "department", "phone", "on_night_duty"]},
        ),
    ]


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name"]
