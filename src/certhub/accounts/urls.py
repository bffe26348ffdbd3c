from django.contrib.auth import views as auth_views
from django.urls import path

from certhub.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.account, name="account"),
    path("mfa/setup/", views.mfa_setup, name="mfa_setup"),
]
