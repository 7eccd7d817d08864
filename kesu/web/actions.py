"""The complaint page's actions: for each lifecycle action, its form, its template and the call into
kesu.complaints.services. Which actions a user sees is services.allowed_actions; the services
check everything again when the form is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from kesu.complaints import policy, services
from kesu.complaints.choices import SATISFIED_VALUES, Satisfaction, Status, Tier
from kesu.complaints.models import Complaint
from kesu.notify.models import Outbox
from kesu.org.choices import DEPARTMENT_ROLES
from kesu.org.models import User

from . import forms as f


@dataclass(frozen=True)
class ActionSpec:
    code: str
    label: Promise
    form: type[f.ActionForm]
    run: Callable[[f.ActionForm, Complaint, User, list], str]
    button: Promise
    danger: bool = False


def _when(value) -> str:
    return date_format(timezone.localtime(value), "Y-m-d H:i")


def _assess(form, c, user, files) -> str:
    services.assess(c, user, version=form.cleaned_data["version"], **form.service_kwargs())
    return _("判定已保存。")


def _dispatch(form, c, user, files) -> str:
    d = form.cleaned_data
    c = services.dispatch(
        c, user, department=d["department"], handler=d["handler"], note=d["note"], version=d["version"]
    )
    who = f"{d['department'].name}" + (f" · {d['handler']}" if d["handler"] else "")
    return _("已派单至 %(who)s。") % {"who": who}


def _accept(form, c, user, files) -> str:
    services.accept(c, user, note=form.cleaned_data["note"], version=form.cleaned_data["version"])
    return _("已接单。")


def _note(form, c, user, files) -> str:
    """The confirmation says who will see the note: what the lifecycle queued, not a guess."""
    d = form.cleaned_data
    tell = d["audience"] == "complainant"
    c = services.note(c, user, text=d["text"], tell_complainant=tell, version=d["version"])
    if not tell:
        return _("已记录：内部备注，投诉人看不到。")
    event = c.events.order_by("-id").first()
    if event is not None and event.outbox.filter(channel=Outbox.Channel.SMS).exists():
        return _("已记录并已告知投诉人（短信），住户端也可看到。")
    return _("已记录并已告知投诉人（住户端可见；无手机号，未发短信）。")


def _escalate(form, c, user, files) -> str:
    d = form.cleaned_data
    c = services.escalate(
        c, user, reason=d["reason"], tier=d["tier"], important=d.get("important", False), version=d["version"]
    )
    return _("已升级至%(tier)s。") % {"tier": Tier(c.tier).label}


def _report(form, c, user, files) -> str:
    d = form.cleaned_data
    services.report(c, user, to=d["to"], summary=d["summary"], version=d["version"])
    return _("已上报公司。")


def _resolve(form, c, user, files) -> str:
    d = form.cleaned_data
    services.resolve(
        c,
        user,
        resolution=d["resolution"],
        tell_complainant=d["tell_complainant"],
        told_words=d["told_words"],
        version=d["version"],
    )
    return _("已处理完毕，等待回访。")


def _call_back(form, c, user, files) -> str:
    d = form.cleaned_data
    dissatisfied = d["satisfaction"] == Satisfaction.DISSATISFIED
    c = services.call_back(
        c,
        user,
        method=d["method"],
        satisfaction=d["satisfaction"],
        words=d["words"],
        confirmed=d["confirmed"],
        rectify_due_at=d["rectify_due_at"] if dissatisfied else None,
        rectify_reason=d["rectify_reason"] if dissatisfied else "",
        version=d["version"],
    )
    label = Satisfaction(d["satisfaction"]).label
    if c.status != Status.RECTIFYING:
        return _("回访已记录：%(s)s。") % {"s": label}
    return _("回访已记录：%(s)s；已转入整改，期限 %(due)s。") % {
        "s": label,
        "due": _when(c.rectify_due_at),
    }


def _reopen(form, c, user, files) -> str:
    d = form.cleaned_data
    services.reopen(c, user, reason=d["reason"], rectify_due_at=d["rectify_due_at"], version=d["version"])
    return _("已转入整改，期限 %(due)s。") % {"due": _when(d["rectify_due_at"])}


def _close(form, c, user, files) -> str:
    d = form.cleaned_data
    services.close(
        c,
        user,
        outcome=d["outcome"],
        lesson_cause=d["lesson_cause"],
        lesson_learned=d["lesson_learned"],
        lesson_prevention=d["lesson_prevention"],
        note=d["note"],
        version=d["version"],
    )
    return _("已结案归档。")


def _decline(form, c, user, files) -> str:
    d = form.cleaned_data
    services.decline(c, user, reason=d["reason"], explanation=d["explanation"], version=d["version"])
    return _("已不予受理，原因已告知投诉人。")


def _withdraw(form, c, user, files) -> str:
    services.withdraw(c, user, reason=form.cleaned_data["reason"], version=form.cleaned_data["version"])
    return _("投诉已撤回。")


def _link(form, c, user, files) -> str:
    d = form.cleaned_data
    services.link_repeat(c, user, target=d["target"].strip(), reason=d["reason"], version=d["version"])
    return _("已关联为 %(n)s 的重复投诉。") % {"n": d["target"].strip()}


def _merge(form, c, user, files) -> str:
    d = form.cleaned_data
    services.merge(c, user, target=d["target"].strip(), reason=d["reason"], version=d["version"])
    return _("已合并至 %(n)s。") % {"n": d["target"].strip()}


def _attach(form, c, user, files) -> str:
    from django.core.exceptions import ValidationError

    if not files:
        raise ValidationError({"attachments": [_("请选择要上传的文件。")]})
    version = form.cleaned_data["version"]
    for upload in files:
        services.add_attachment(c, user, upload, upload.name, version=version)
        c.refresh_from_db(fields=["version"])
        version = c.version
    return _("已上传 %(n)d 个附件。") % {"n": len(files)}


ACTIONS: dict[str, ActionSpec] = {
    spec.code: spec
    for spec in [
        ActionSpec(
            "assess",
            pgettext_lazy("action", "判定"),
            f.AssessForm,
            _assess,
            pgettext_lazy("action", "保存判定"),
        ),
        ActionSpec(
            "dispatch",
            pgettext_lazy("action", "派单"),
            f.DispatchForm,
            _dispatch,
            pgettext_lazy("action", "派单"),
        ),
        ActionSpec(
            "accept", pgettext_lazy("action", "接单"), f.AcceptForm, _accept, pgettext_lazy("action", "接单")
        ),
        ActionSpec(
            "resolve",
            pgettext_lazy("action", "填写处理结果"),
            f.ResolveForm,
            _resolve,
            pgettext_lazy("action", "处理完毕"),
        ),
        ActionSpec(
            "call_back",
            pgettext_lazy("action", "回访"),
            f.CallBackForm,
            _call_back,
            pgettext_lazy("action", "保存回访"),
        ),
        ActionSpec(
            "reopen",
            pgettext_lazy("action", "整改"),
            f.ReopenForm,
            _reopen,
            pgettext_lazy("action", "转入整改"),
        ),
        ActionSpec(
            "close", pgettext_lazy("action", "结案"), f.CloseForm, _close, pgettext_lazy("action", "结案归档")
        ),
        ActionSpec(
            "note",
            pgettext_lazy("action", "记录进展 / 告知投诉人"),
            f.NoteForm,
            _note,
            pgettext_lazy("action", "保存记录"),
        ),
        ActionSpec(
            "report",
            pgettext_lazy("action", "上报公司"),
            f.ReportForm,
            _report,
            pgettext_lazy("action", "上报"),
        ),
        ActionSpec(
            "escalate",
            pgettext_lazy("action", "升级上报"),
            f.EscalateForm,
            _escalate,
            pgettext_lazy("action", "升级"),
        ),
        ActionSpec(
            "attach",
            pgettext_lazy("action", "添加附件"),
            f.AttachForm,
            _attach,
            pgettext_lazy("action", "上传"),
        ),
        ActionSpec(
            "link",
            pgettext_lazy("action", "关联重复投诉"),
            f.LinkForm,
            _link,
            pgettext_lazy("action", "关联"),
        ),
        ActionSpec(
            "merge",
            pgettext_lazy("action", "合并"),
            f.MergeForm,
            _merge,
            pgettext_lazy("action", "合并"),
            danger=True,
        ),
        ActionSpec(
            "decline",
            pgettext_lazy("action", "不予受理"),
            f.DeclineForm,
            _decline,
            pgettext_lazy("action", "不予受理"),
            danger=True,
        ),
        ActionSpec(
            "withdraw",
            pgettext_lazy("action", "撤回"),
            f.WithdrawForm,
            _withdraw,
            pgettext_lazy("action", "撤回投诉"),
            danger=True,
        ),
    ]
}


def suggested(c: Complaint, allowed: list[str], user: User | None = None) -> str | None:
    """The next step this user would normally take now (shown open; the others folded). While the
    department works on it, the CS centre has no next step of its own."""
    s = c.status
    department = user is not None and services.role_of(user) in DEPARTMENT_ROLES
    if "report" in allowed:  # a major complaint goes to the company within the hour, before all else
        return "report"
    assessed = bool(c.nature and c.severity and c.category_id)
    if s == Status.RECEIVED:
        prefs = ["dispatch", "assess"] if assessed else ["assess", "dispatch"]
    elif s == Status.DISPATCHED:
        prefs = ["accept", "resolve"] if department else []
    elif s in (Status.IN_PROGRESS, Status.RECTIFYING):
        prefs = ["resolve"] if department else []
    elif s == Status.RESOLVED:
        if c.satisfaction == Satisfaction.DISSATISFIED:
            prefs = ["reopen"]
        elif c.satisfaction in SATISFIED_VALUES or not policy.needs_callback(c):
            # Called back satisfied, or an enquiry settled at the counter (no callback owed).
            prefs = ["close", "call_back"]
        elif policy.may_close_without_callback(c):
            # Answered on the spot but still owes its callback: closing now counts as not called back.
            prefs = ["call_back", "close"]
        else:
            prefs = ["call_back"]
    else:
        prefs = []
    return next((a for a in prefs if a in allowed), None)


def ordered(c: Complaint, allowed: list[str], user: User | None = None) -> list[str]:
    """Allowed actions that have a form here, the suggested one first."""
    first = suggested(c, allowed, user)
    rest = [code for code in ACTIONS if code in allowed and code != first]
    return ([first] if first else []) + rest
