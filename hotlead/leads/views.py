from django.shortcuts import render


def lead_form(request):
    return render(request, "leads/form.html")
