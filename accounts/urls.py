from django.urls import path

from accounts.api.views import MeView, SignupView, TokenView

urlpatterns = [
    path("auth/signup", SignupView.as_view(), name="auth-signup"),
    path("auth/token", TokenView.as_view(), name="auth-token"),
    path("me", MeView.as_view(), name="me"),
]
