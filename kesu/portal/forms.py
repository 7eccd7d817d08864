"""Shape checks for the portal's forms; the rules themselves are in the lifecycle (services.py)."""

from __future__ import annotations

import datetime as dt
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kesu.complaints.choices import Satisfaction
from kesu.complaints.validation import MAX_CONTENT_CHARS, normalize_phone

from .choices import PreferredContact

_MOBILE_HINT = _("请输入11位手机号。")
_CODE_HINT = _("请输入短信里的6位数字验证码。")


def _half_width(value: str) -> str:
    # Chinese input methods may type full-width digits (１３８…).
    return unicodedata.normalize("NFKC", value or "").strip()


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20, error_messages={"required": _MOBILE_HINT})

    def clean_phone(self) -> str:
        raw = _half_width(self.cleaned_data["phone"])
        try:
            phone = normalize_phone(raw)
        except ValidationError:
            raise ValidationError(_MOBILE_HINT) from None
        if len(phone) != 11 or not phone.startswith("1"):
            raise ValidationError(_MOBILE_HINT)
        return phone


class CodeForm(forms.Form):
    code = forms.CharField(label=_("验证码"), max_length=12, error_messages={"required": _CODE_HINT})

    def clean_code(self) -> str:
        code = _half_width(self.cleaned_data["code"]).replace(" ", "")
        if len(code) != 6 or not code.isdigit():
            raise ValidationError(_CODE_HINT)
        return code


class ComplainForm(forms.Form):
    unit = forms.TypedChoiceField(
        label=_("哪一户"), coerce=int, error_messages={"required": _("请选择房屋。")}
    )
    content = forms.CharField(
        label=_("发生了什么"),
        max_length=MAX_CONTENT_CHARS,
        error_messages={"required": _("请写下发生了什么。")},
    )
    category = forms.ChoiceField(label=_("问题类型"), required=False)
    preferred_contact = forms.ChoiceField(
        label=_("方便联系的时间"), choices=PreferredContact.choices, initial=PreferredContact.ANY
    )
    wanted_by = forms.DateField(label=_("希望在哪天前处理好"), required=False)
    anonymous = forms.BooleanField(label=_("对涉及的工作人员保密我的身份"), required=False)
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, units, categories, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, u.pk) for u in units]
        self.fields["category"].choices = [("", "")] + [(c.code, c.code) for c in categories]

    def clean_content(self) -> str:
        text = self.cleaned_data["content"].strip()
        if len(text) < 5:
            raise ValidationError(_("请多写几个字，说清楚发生了什么（至少5个字）。"))
        return text

    def clean_wanted_by(self) -> dt.date | None:
        day = self.cleaned_data.get("wanted_by")
        if day is not None and day < timezone.localdate():  # today is a fair wish (issue 14)
            raise ValidationError(_("请选择今天或以后的日期。"))
        if day is not None and day > timezone.localdate() + dt.timedelta(days=366):
            raise ValidationError(_("请选择一年以内的日期。"))
        return day


class RateForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("您对处理结果满意吗"),
        choices=Satisfaction.choices,
        error_messages={"required": _("请选择满意程度。")},
    )
    words = forms.CharField(label=_("说说您的看法"), max_length=2000, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("satisfaction") == Satisfaction.DISSATISFIED and not (data.get("words") or "").strip():
            self.add_error("words", _("请告诉我们哪里还不满意，方便我们整改。"))
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因"), max_length=500, error_messages={"required": _("请写一下撤回的原因。")}
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
