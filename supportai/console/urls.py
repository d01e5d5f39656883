from django.contrib.auth import views as auth_views
from django.urls import path

from supportai.console import views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch-tenant/", views.switch_tenant, name="switch_tenant"),
    path("<slug:slug>/", views.section, name="section"),
]
