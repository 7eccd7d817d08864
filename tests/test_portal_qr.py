"""Per-building QR code sheets: office and company staff print an A4 PDF for their own offices; each
code opens the portal with the office and building chosen."""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from django.urls import reverse
from portal_support import SCREENSHOTS

from kesu.org.models import Building
from kesu.portal import qr


@pytest.fixture
def buildings(org):
    for n in range(1, 14):
        Building.objects.create(office=org.a.office, name=f"{n + 3}栋")
    return Building.objects.filter(office=org.a.office)


def test_a_director_prints_the_sheet_of_their_office(client, org, buildings):
    client.force_login(org.director)
    index = client.get(reverse("portal:qr"))
    assert (
        index.status_code == 200
        and "翠湖花园" in index.content.decode()
        and "锦绣华庭" not in index.content.decode()
    )
    response = client.get(reverse("portal:qr_sheet", args=["Y01"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page>") >= 1
    # 14 buildings and the whole-estate code: 15 codes at 12 a page → two pages.
    assert b"/Count 2" in pdf
    if shutil.which("pdftoppm"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "qr-sheet-Y01.pdf").write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                str(SCREENSHOTS / "qr-sheet-Y01.pdf"),
                str(SCREENSHOTS / "qr-sheet"),
            ],
            check=True,
        )


def test_each_code_opens_the_portal_for_its_office_and_building(org, settings):
    settings.KESU_PORTAL_BASE_URL = "https://wuye.example.cn"
    building = org.a.unit.building
    url = qr.building_url(org.a.office, building)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wuye.example.cn", "/portal/")
    assert parse_qs(parts.query) == {"o": ["Y01"], "b": [str(building.pk)]}
    assert segno.make(url, error="m").version <= 5  # small enough to scan from a lift wall


def test_staff_of_another_office_company_roles_residents_and_strangers(client, org):
    client.force_login(org.director2)
    assert client.get(reverse("portal:qr_sheet", args=["Y01"])).status_code == 404
    client.force_login(org.quality)
    assert client.get(reverse("portal:qr_sheet", args=["Y01"])).status_code == 200
    client.force_login(org.handler)
    assert client.get(reverse("portal:qr")).status_code == 403
    client.force_login(org.resident)
    assert client.get(reverse("portal:qr_sheet", args=["Y01"])).status_code == 403
    client.logout()
    response = client.get(reverse("portal:qr"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_home_page_of_a_scanned_code_offers_to_complain_there(client, org):
    client.force_login(org.resident, backend="django.contrib.auth.backends.ModelBackend")
    building = org.a.unit.building
    page = client.get(reverse("portal:home"), {"o": "Y01", "b": building.pk}).content.decode()
    assert "翠湖花园 3栋" in page and f"b={building.pk}" in page
    # A building of another office with this office's code is ignored, not trusted.
    other = org.b.unit.building
    page = client.get(reverse("portal:home"), {"o": "Y01", "b": other.pk}).content.decode()
    assert "锦绣华庭" not in page
