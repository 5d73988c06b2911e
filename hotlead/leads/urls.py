from django.urls import path

from hotlead.leads import views

app_name = "leads"

urlpatterns = [
    path("", views.lead_form, name="form"),
]
