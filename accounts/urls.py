from django.urls import path

from accounts.api.views import (
    ApiTokenDetailView,
    ApiTokenListView,
    LoginView,
    LogoutView,
    MeView,
    SignupView,
    TokenView,
)

urlpatterns = [
    path("auth/signup", SignupView.as_view(), name="auth-signup"),
    path("auth/token", TokenView.as_view(), name="auth-token"),
    path("auth/login", LoginView.as_view(), name="auth-login"),
    path("auth/logout", LogoutView.as_view(), name="auth-logout"),
    path("me", MeView.as_view(), name="me"),
    path("tokens", ApiTokenListView.as_view(), name="tokens"),
    path("tokens/<int:token_id>", ApiTokenDetailView.as_view(), name="token-detail"),
]
