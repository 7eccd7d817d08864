from django.shortcuts import render

from kesu.complaints.models import Complaint


def home(request):
    context = {}
    if request.user.is_authenticated:
        visible = Complaint.objects.visible_to(request.user)
        context = {"visible": visible.count(), "overdue": visible.overdue().count()}
    return render(request, "web/home.html", context)
