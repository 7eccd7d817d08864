"""A confidential complaint (对投诉人身份保密) and the traces of its complainant that must never reach the
staff it is about. Import `confidential_fixture` to use the `confidential` fixture.

The complainant filed on line from their portal account, asked for anonymity, and complained about
the Y01 engineering handler and their department; the complaint was dispatched to that handler, who
took it. A second complaint of theirs, also about the handler, was resolved and rated on line.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from portal_support import jpeg_bytes

from kesu.complaints import services
from kesu.complaints.models import Complaint
from kesu.complaints.validation import mask_name, mask_phone
from kesu.org.choices import DepartmentType
from kesu.org.models import Resident

NAME = "欧阳晓岚"
PHONE = "13622223333"
ADDRESS = "梧桐巷17号"
CONTENT = "电梯门关不上，维修师傅上门三次都没修好，态度也很差。"
LATER = "楼道灯坏了一个月，报修后维修师傅一直推脱。"


def _file(kind: str):
    return SimpleUploadedFile(f"{NAME}家门口-{kind}.jpg", jpeg_bytes(), content_type="image/jpeg")


def confidential_complaint(org, account, content: str) -> Complaint:
    eng = org.a.dept[DepartmentType.ENGINEERING]
    c = services.register(
        account,
        office="Y01",
        channel="online",
        content=content,
        unit=org.a.other_unit,
        address=ADDRESS,
        complainant_name=NAME,
        complained_party="工程部维修师傅",
        complained_department=eng,
        anonymous_to_staff=True,
        attachments=[(_file("photo"), f"{NAME}家门口.jpg")],
    )
    # The portal cannot name a member of staff (a resident does not know who is who); the desk
    # records whom the complaint is about when it reads it.
    Complaint.objects.filter(pk=c.pk).update(complained_staff=org.handler)
    c = Complaint.objects.get(pk=c.pk)
    c = services.dispatch(c, org.supervisor, department=eng, handler=org.handler)
    c = services.accept(c, org.handler)
    c = services.note(c, org.handler, text="已约维保单位周四上门。")
    services.add_attachment(c, org.handler, _file("site"), f"{NAME}-现场.jpg")
    return Complaint.objects.get(pk=c.pk)


@pytest.fixture(name="confidential")
def confidential_fixture(org):
    from kesu.portal.codes import resident_user

    Resident.objects.create(unit=org.a.other_unit, name=NAME, phone=PHONE)
    account = resident_user(PHONE)
    assert account is not None
    c = confidential_complaint(org, account, CONTENT)
    done = confidential_complaint(org, account, LATER)
    done = services.resolve(done, org.handler, resolution="已更换灯管。")
    done = services.call_back(done, account, method="other", satisfaction="satisfied", words="修好了。")
    unit = org.a.other_unit
    secrets = {
        "unit": unit.label,
        "unit code": unit.code,
        "name": NAME,
        "masked name": mask_name(NAME),
        "phone": PHONE,
        "masked phone": mask_phone(PHONE),
        "address": ADDRESS,
        "username": account.username,
    }
    return SimpleNamespace(c=c, done=Complaint.objects.get(pk=done.pk), account=account, secrets=secrets)


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [f"{what} {value!r}" for what, value in secrets.items() if value and value in text]
